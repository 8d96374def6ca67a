/**
 * Runs the planner off the event loop, in the planners' pool (pool.ts), and holds it to a deadline: the
 * planner stops itself there with the best plan it found; should it not answer in time, it is stopped and
 * the greedy plan is answered instead.
 */
import type { Worker } from "node:worker_threads";
import { type BankTotals, greedyPlan, type RobberyPlan } from "./robbery.ts";
import { type PoolReply, type PoolRequest, wallClock } from "./worker_messages.ts";
import { startWorker } from "./worker_start.ts";

/** A plan and how long it took. */
export interface TimedPlan<B extends BankTotals> {
  plan: RobberyPlan<B>;
  ms: number;
}

/**
 * How much sooner than the caller's deadline the planner is told to stop: it looks at the clock every few
 * thousand search nodes, then posts its plan, and both take a little time.
 */
const WORKER_MARGIN_MS = 30;

/**
 * Plans in the pool's threads. The pool is started with the PlanThread, which a bank creates before it
 * listens: on Deno starting a thread holds up the event loop, which must then not be serving anyone.
 */
export class PlanThread {
  #pool: Worker | undefined;
  #closed = false;
  #lastId = 0;
  /** The plans waiting for the pool, by id. */
  readonly #waiting = new Map<number, (reply: PoolReply) => void>();

  constructor() {
    this.#pool = this.#startPool();
  }

  #startPool(): Worker {
    const pool = startWorker("pool");
    // It keeps the process alive only while a plan waits on it.
    pool.unref();
    pool.on("message", (reply: PoolReply) => this.#waiting.get(reply.id)?.(reply));
    const fail = (why: string): void => {
      // The next plan starts another pool.
      if (this.#pool === pool) this.#pool = undefined;
      for (const [id, settle] of this.#waiting) settle({ id, error: why });
    };
    pool.on("error", (error) => fail(error.message));
    pool.on("exit", (code) => fail(`the planners' pool stopped (exit code ${code})`));
    return pool;
  }

  #send(request: PoolRequest): void {
    this.#pool?.postMessage(request);
  }

  /**
   * Plans off the event loop. The plan is in by `timeLimitMs` (should the planner miss it, the greedy plan,
   * flagged not exact); a failing planner rejects.
   */
  plan<B extends BankTotals>(banks: readonly B[], target: bigint, timeLimitMs: number): Promise<TimedPlan<B>> {
    if (this.#closed) return Promise.reject(new Error("the planner is closed"));
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const pool = (this.#pool ??= this.#startPool());
    const id = ++this.#lastId;
    if (this.#waiting.size === 0) pool.ref();
    return new Promise((resolve, reject) => {
      const settle = (outcome: () => void): void => {
        clearTimeout(backstop);
        this.#waiting.delete(id);
        if (this.#waiting.size === 0) pool.unref();
        outcome();
      };
      this.#waiting.set(id, (reply) => {
        if ("error" in reply) settle(() => reject(new Error(reply.error)));
        else {
          const plan = reply.reply;
          settle(() => resolve({ plan: plan.reachable ? { ...plan, banks: plan.banks.map((i) => banks[i]!) } : plan, ms: elapsed() }));
        }
      });
      const backstop = setTimeout(() => {
        this.#send({ id, cancel: true });
        settle(() => resolve({ plan: greedyPlan(banks, target), ms: elapsed() }));
      }, Math.max(0, timeLimitMs));
      this.#send({
        id,
        plan: {
          banks: banks.map((b) => ({ clients: b.clients, amount: b.amount })),
          target,
          deadline: wallClock() + timeLimitMs - WORKER_MARGIN_MS,
        },
      });
    });
  }

  /** Stops the pool and its planners; plans still waiting are rejected. */
  close(): void {
    this.#closed = true;
    void this.#pool?.terminate();
    this.#pool = undefined;
  }
}
