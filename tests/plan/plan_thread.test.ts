/** The planner's worker thread: plans off the event loop, within its time limit, the same plans as the planner. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { PlanThread } from "../../src/plan/plan_thread.ts";
import { type BankTotals, greedyPlan, planRobbery } from "../../src/plan/robbery.ts";
import { network } from "../helpers/networks.ts";
import { Rng } from "../helpers/random.ts";

/** 254 banks with amount = 1000 × clients + 0..49: the class the planner takes longest to prove. */
const noisyNetwork = (seed: number): BankTotals[] => network("strongly correlated + noise", seed);

const share = (banks: readonly BankTotals[], percent: bigint) => (banks.reduce((s, b) => s + b.amount, 0n) * percent) / 100n;

describe("PlanThread", () => {
  const thread = new PlanThread();
  after(() => thread.close());

  it("plans off the event loop: timers keep firing while a hard network is planned, and the limit holds", async () => {
    const banks = noisyNetwork(7919);
    const target = share(banks, 90n);
    const limitMs = 1000;
    let last = performance.now();
    let longestGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const { plan, ms } = await thread.plan(banks, target, limitMs);
    clearInterval(timer);
    assert.ok(plan.reachable);
    assert.ok(plan.amount >= target && plan.banks.every((b) => banks.includes(b)));
    assert.equal(plan.banks.reduce((s, b) => s + b.clients, 0n), plan.clients);
    const greedy = greedyPlan(banks, target);
    assert.ok(greedy.reachable && plan.clients <= greedy.clients, `${plan.clients} clients, greedy ${greedy.reachable && greedy.clients}`);
    // a loaded machine may answer a little late, never a whole second late
    assert.ok(ms < limitMs + 500, `plan took ${ms.toFixed(0)} ms`);
    // on the event loop, the plan would have held the timer for its whole run
    assert.ok(longestGap < Math.max(250, ms / 2), `the event loop stalled for ${longestGap.toFixed(0)} ms during a ${ms.toFixed(0)} ms plan`);
  });

  it("gives the planner's own plan, with the caller's bank objects", async () => {
    const rng = new Rng(31);
    const banks = Array.from({ length: 40 }, (_, i) => ({ code: `b${i}`, clients: BigInt(rng.int(0, 50)), amount: rng.big(10n ** 15n) }));
    for (const percent of [0n, 30n, 100n]) {
      const target = share(banks, percent);
      const { plan } = await thread.plan(banks, target, 30_000);
      assert.deepEqual(plan, planRobbery(banks, target, 30_000));
      if (plan.reachable) assert.ok(plan.banks.every((b) => banks.includes(b)));
    }
    const { plan: tooMuch } = await thread.plan(banks, share(banks, 100n) + 1n, 30_000);
    assert.equal(tooMuch.reachable, false);
  });

  it("answers the greedy plan, flagged not exact, when the worker cannot answer in time", async () => {
    const banks = noisyNetwork(5);
    const target = share(banks, 50n);
    const { plan } = await thread.plan(banks, target, 0);
    assert.deepEqual(plan, greedyPlan(banks, target));
    assert.ok(plan.reachable && !plan.exact);
    // the stopped worker is replaced: the next plan works
    const next = await thread.plan(banks.slice(0, 10), share(banks.slice(0, 10), 50n), 30_000);
    assert.ok(next.plan.reachable && next.plan.exact);
  });
});
