/** The planner's threads: plan off the event loop, each plan in a thread of its own, within its time limit, the same plans as the planner. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { PlanThread } from "../../src/plan/plan_thread.ts";
import { type BankTotals, greedyPlan, planRobbery } from "../../src/plan/robbery.ts";
import { network, subsetSumNetwork } from "../helpers/networks.ts";
import { Rng } from "../helpers/random.ts";

const share = (banks: readonly BankTotals[], percent: bigint) => (banks.reduce((s, b) => s + b.amount, 0n) * percent) / 100n;

describe("PlanThread", () => {
  const thread = new PlanThread();
  after(() => thread.close());

  it("plans off the event loop: timers keep firing while a network is searched until the limit, and the limit holds", async () => {
    const banks = subsetSumNetwork(7919, 254);
    const target = share(banks, 45n);
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
    // a subset sum: the search runs until its limit
    assert.equal(plan.exact, false);
    assert.ok(plan.amount >= target && plan.banks.every((b) => banks.includes(b)));
    assert.equal(plan.banks.reduce((s, b) => s + b.clients, 0n), plan.clients);
    const greedy = greedyPlan(banks, target);
    assert.ok(greedy.reachable && plan.clients <= greedy.clients, `${plan.clients} clients, greedy ${greedy.reachable && greedy.clients}`);
    // a loaded machine may answer a little late, never a whole second late
    assert.ok(ms < limitMs + 500, `plan took ${ms.toFixed(0)} ms`);
    // on the event loop, the plan would have held the timer for its whole run
    assert.ok(longestGap < 250, `the event loop stalled for ${longestGap.toFixed(0)} ms during a ${ms.toFixed(0)} ms plan`);
  });

  it("plans in threads of their own: a quick plan is not held behind a long one", async () => {
    const hard = subsetSumNetwork(31, 254);
    const long = thread.plan(hard, share(hard, 40n), 2000);
    const easy = network("uncorrelated", 31).slice(0, 40);
    const started = performance.now();
    const quick = await thread.plan(easy, share(easy, 50n), 30_000);
    const quickMs = performance.now() - started;
    let longDone = false;
    void long.then(() => (longDone = true));
    await Promise.resolve();
    assert.ok(quick.plan.reachable && quick.plan.exact);
    assert.equal(longDone, false, `the quick plan took ${quickMs.toFixed(0)} ms, after the long one`);
    assert.ok((await long).ms >= 1500);
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

  it("answers the greedy plan, flagged not exact, when the planner cannot answer in time", async () => {
    const banks = network("strongly correlated + noise", 5);
    const target = share(banks, 50n);
    const { plan } = await thread.plan(banks, target, 0);
    assert.deepEqual(plan, greedyPlan(banks, target));
    assert.ok(plan.reachable && !plan.exact);
    // the stopped planner is replaced: the next plan works
    const next = await thread.plan(banks.slice(0, 10), share(banks.slice(0, 10), 50n), 30_000);
    assert.ok(next.plan.reachable && next.plan.exact);
  });
});
