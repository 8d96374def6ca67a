/**
 * The planner's worker thread: receives one network and target, plans, posts the plan back. The build
 * bundles this file on its own and carries it inside dist/bank.mjs as a string (see scripts/build.mjs).
 */
import { parentPort } from "node:worker_threads";
import { planRobbery } from "./robbery.ts";
import { type PlanReply, type PlanRequest, wallClock } from "./worker_messages.ts";

parentPort!.on("message", ({ banks, target, deadline }: PlanRequest) => {
  const plan = planRobbery(banks.map((b, i) => ({ code: String(i), ...b })), target, Math.max(0, deadline - wallClock()));
  const reply: PlanReply = plan.reachable ? { ...plan, banks: plan.banks.map((b) => Number(b.code)) } : plan;
  parentPort!.postMessage(reply);
});
