/**
 * Starts the planner's worker thread from its source file, for tests and benches that run from source. The
 * build replaces this module with one that starts the worker from code carried in the bundle.
 */
import { Worker } from "node:worker_threads";

const source = new URL("./worker.ts", import.meta.url);

/** A new worker running worker.ts: Deno runs TypeScript itself; Node needs tsx registered in the worker. */
export function startWorker(): Worker {
  if ("Deno" in globalThis) return new Worker(source);
  return new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`, { eval: true });
}
