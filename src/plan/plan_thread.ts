/**
 * Runs the planner in a worker thread, so a long search never holds up the bank's other clients, and
 * holds it to a deadline: the worker stops itself there with the best plan it found; should it not
 * answer in time, it is terminated and the greedy plan is answered instead.
 */
import type { Worker } from "node:worker_threads";
import { type BankTotals, greedyPlan, type RobberyPlan } from "./robbery.ts";
import { type PlanReply, type PlanRequest, wallClock } from "./worker_messages.ts";
import { startWorker } from "./worker_start.ts";

/** A plan and how long it took. */
export interface TimedPlan<B extends BankTotals> {
  plan: RobberyPlan<B>;
  ms: number;
}

/**
 * How much sooner than the caller's deadline the worker is told to stop: it looks at the clock every few
 * thousand search nodes, then posts its plan, and both take a little time.
 */
const WORKER_MARGIN_MS = 30;

/**
 * Plans in worker threads; after a plan keeps its worker for the next, as starting one takes tens of ms.
 * The first plan starts one: a worker starting up takes the CPU for a moment, which at a bank's start, on a
 * busy machine, was enough to make its answers to a scan's probes late.
 */
export class PlanThread {
  #idle: Worker | undefined;
  #closed = false;

  /** A started worker that does not keep the process alive while it waits. */
  #spare(): Worker {
    const worker = startWorker();
    worker.unref();
    // An idle worker that fails is dropped; the next plan starts another.
    worker.once("error", () => {
      if (this.#idle === worker) this.#idle = undefined;
    });
    return worker;
  }

  /**
   * Plans off the event loop. The plan is in by `timeLimitMs` (should the worker miss it, the greedy plan,
   * flagged not exact); a failing worker rejects.
   */
  plan<B extends BankTotals>(banks: readonly B[], target: bigint, timeLimitMs: number): Promise<TimedPlan<B>> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const worker = this.#idle ?? this.#spare();
    this.#idle = undefined;
    worker.ref();
    return new Promise((resolve, reject) => {
      const settle = (keep: boolean, outcome: () => void): void => {
        clearTimeout(backstop);
        worker.off("message", onMessage).off("error", onError).off("exit", onExit);
        worker.unref();
        if (keep && this.#idle === undefined && !this.#closed) this.#idle = worker;
        else void worker.terminate();
        outcome();
      };
      const onMessage = (reply: PlanReply) =>
        settle(true, () => resolve({ plan: reply.reachable ? { ...reply, banks: reply.banks.map((i) => banks[i]!) } : reply, ms: elapsed() }));
      const onError = (error: Error) => settle(false, () => reject(error));
      const onExit = (code: number) => settle(false, () => reject(new Error(`the planner's worker stopped (exit code ${code})`)));
      const backstop = setTimeout(() => settle(false, () => resolve({ plan: greedyPlan(banks, target), ms: elapsed() })), Math.max(0, timeLimitMs));
      worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      const request: PlanRequest = {
        banks: banks.map((b) => ({ clients: b.clients, amount: b.amount })),
        target,
        deadline: wallClock() + timeLimitMs - WORKER_MARGIN_MS,
      };
      worker.postMessage(request);
    });
  }

  /** Stops the idle worker; plans still running finish. */
  close(): void {
    this.#closed = true;
    void this.#idle?.terminate();
    this.#idle = undefined;
  }
}
