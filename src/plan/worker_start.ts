/**
 * Starts the planner's worker thread from its source file (tests and benches run from source, through
 * tsx). The build replaces this module with one that starts the worker from code carried in the bundle.
 */
import { Worker } from "node:worker_threads";

/** A new worker running worker.ts. */
export function startWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { execArgv: ["--import", "tsx"] });
}
