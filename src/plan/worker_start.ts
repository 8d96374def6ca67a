/**
 * Starts the planner's threads from their source files, for tests and benches that run from source. The
 * build replaces this module with one that starts them from code carried in the bundle.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";

/** The threads, by name: the pool of planners, started by the bank, and a planner, started by the pool. */
const sources = {
  pool: new URL("./pool.ts", import.meta.url),
  planner: new URL("./worker.ts", import.meta.url),
};

export type ThreadName = keyof typeof sources;

/** A new thread running the named file: Deno runs TypeScript itself; Node needs tsx registered in the thread. */
export function startWorker(name: ThreadName, options: WorkerOptions = {}): Worker {
  const source = sources[name];
  if ("Deno" in globalThis) return new Worker(source, options);
  const code = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}
