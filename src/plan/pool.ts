/**
 * The planners' pool: a thread of its own that starts the planner threads, so that the bank's event loop
 * never does (on Deno, `new Worker` holds the calling thread for 40–70 ms while the new one boots). It
 * keeps one planner started ahead of the next plan, hands each plan to an idle planner, relays the reply,
 * and stops a planner the bank no longer waits for. The build carries this file's code as a string, like
 * the planner's (see scripts/build.mjs).
 */
import { MessageChannel, type MessagePort, parentPort, type Worker } from "node:worker_threads";
import type { PlanReply, PoolReply, PoolRequest } from "./worker_messages.ts";
import { startWorker } from "./worker_start.ts";

interface Planner {
  worker: Worker;
  /**
   * Its end of a channel of their own: on Deno, a message through a nested worker's parentPort takes about
   * 250 ms, through a MessagePort well under a millisecond.
   */
  port: MessagePort;
  /** The plan it is making, if any. */
  job?: number;
}

const idle: Planner[] = [];
const busy = new Map<number, Planner>();
const pool = parentPort!;
const answer = (message: PoolReply): void => pool.postMessage(message);

function startPlanner(): Planner {
  const { port1, port2 } = new MessageChannel();
  const planner: Planner = { worker: startWorker("planner", { workerData: { port: port2 }, transferList: [port2] }), port: port1 };
  port1.on("message", (reply: PlanReply) => {
    const id = planner.job!;
    release(planner);
    // One idle planner at most: each holds a V8 heap of its own (about 15 MB).
    if (idle.length === 0) idle.push(planner);
    else void planner.worker.terminate();
    answer({ id, reply });
  });
  const fail = (why: string): void => {
    const id = planner.job;
    release(planner);
    void planner.worker.terminate();
    if (id !== undefined) answer({ id, error: why });
  };
  planner.worker.on("error", (error) => fail(error.message));
  planner.worker.on("exit", (code) => fail(`the planner's thread stopped (exit code ${code})`));
  return planner;
}

/** Takes the planner out of the pool's books, idle or busy. */
function release(planner: Planner): void {
  if (planner.job !== undefined) busy.delete(planner.job);
  planner.job = undefined;
  const at = idle.indexOf(planner);
  if (at >= 0) idle.splice(at, 1);
}

pool.on("message", (request: PoolRequest) => {
  if ("cancel" in request) {
    const planner = busy.get(request.id);
    if (planner === undefined) return;
    release(planner);
    planner.port.close();
    void planner.worker.terminate();
  } else {
    const planner = idle.pop() ?? startPlanner();
    planner.job = request.id;
    busy.set(request.id, planner);
    planner.port.postMessage(request.plan);
  }
  // The next plan finds one started; starting it here holds up only this thread.
  if (idle.length === 0) idle.push(startPlanner());
});

idle.push(startPlanner());
