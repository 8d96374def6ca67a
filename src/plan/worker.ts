/**
 * A planner thread: receives a network and a target on the port the pool gave it, plans, posts the plan
 * back. The build bundles this file on its own and carries it inside the pool's code as a string (see
 * scripts/build.mjs).
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { planRobbery } from "./robbery.ts";
import { type PlanReply, type PlanRequest, wallClock } from "./worker_messages.ts";

const { port } = workerData as { port: MessagePort };
port.on("message", ({ banks, target, deadline }: PlanRequest) => {
  const plan = planRobbery(banks.map((b, i) => ({ code: String(i), ...b })), target, Math.max(0, deadline - wallClock()));
  const reply: PlanReply = plan.reachable ? { ...plan, banks: plan.banks.map((b) => Number(b.code)) } : plan;
  port.postMessage(reply);
});
