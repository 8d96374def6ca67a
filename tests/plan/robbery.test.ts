/** The robbery planner against a brute force over every subset, and on whole-/24 instances. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BankTotals, planRobbery } from "../../src/plan/robbery.ts";
import { Rng } from "../helpers/random.ts";

/** A float source in [0, 1) from a seed, so a failing case can be replayed. */
const rng = (seed: number) => {
  const r = new Rng(seed);
  return () => r.next();
};

/** The best set by brute force over every subset (in Gray-code order: one bank in or out per step). */
function bruteForce(banks: readonly BankTotals[], target: bigint) {
  let best: { clients: bigint; amount: bigint; size: number } | undefined;
  let clients = 0n;
  let amount = 0n;
  let size = 0;
  let mask = 0;
  for (let step = 0; step < 1 << banks.length; step++) {
    if (step > 0) {
      const bit = 31 - Math.clz32(step & -step);
      const bank = banks[bit]!;
      mask ^= 1 << bit;
      const sign = mask & (1 << bit) ? 1 : -1;
      clients += sign > 0 ? bank.clients : -bank.clients;
      amount += sign > 0 ? bank.amount : -bank.amount;
      size += sign;
    }
    if (amount < target) continue;
    if (
      !best || clients < best.clients || (clients === best.clients && amount < best.amount) ||
      (clients === best.clients && amount === best.amount && size < best.size)
    ) best = { clients, amount, size };
  }
  return best;
}

const MAX = 9223372036854775807n;

function instance(rnd: () => number, n: number, kind: number): BankTotals[] {
  return Array.from({ length: n }, (_, i) => {
    const clients = BigInt(Math.floor(rnd() * (kind === 0 ? 6 : 90_000)));
    const amount = kind === 0
      ? BigInt(Math.floor(rnd() * 8)) // tiny values: many ties, zero amounts and zero clients
      : kind === 1
      ? clients * 1000n + BigInt(Math.floor(rnd() * 50)) // strongly correlated
      : kind === 2
      ? MAX - BigInt(Math.floor(rnd() * 1e6)) // near 2^63 − 1: sums far past it
      : BigInt(Math.floor(rnd() * 1e12)); // uncorrelated
    return { code: `10.0.${kind}.${i + 1}`, amount, clients };
  });
}

describe("planRobbery", () => {
  it("matches a brute force over every subset on 2,000 random networks of up to 20 banks", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const rnd = rng(seed);
      const n = seed <= 1980 ? 1 + Math.floor(rnd() * 12) : 16 + Math.floor(rnd() * 5);
      const kind = seed % 4;
      const banks = instance(rnd, n, kind);
      const total = banks.reduce((s, b) => s + b.amount, 0n);
      const target = rnd() < 0.1 ? total + 1n : (total * BigInt(Math.floor(rnd() * 101))) / 100n;
      const plan = planRobbery(banks, target);
      const best = bruteForce(banks, target);
      const where = `seed ${seed}, target ${target}, banks ${JSON.stringify(banks, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`;
      if (best === undefined) {
        assert.equal(plan.reachable, false, where);
        assert.equal(plan.amount, total, where);
        continue;
      }
      assert.ok(plan.reachable, where);
      assert.equal(plan.clients, best.clients, where);
      assert.equal(plan.amount, best.amount, where);
      assert.equal(plan.banks.length, best.size, where);
      // The plan's own totals are those of the banks it names, each bank at most once.
      assert.equal(new Set(plan.banks.map((b) => b.code)).size, plan.banks.length, where);
      assert.equal(plan.banks.reduce((s, b) => s + b.amount, 0n), plan.amount, where);
      assert.equal(plan.banks.reduce((s, b) => s + b.clients, 0n), plan.clients, where);
    }
  });

  it("takes nothing for a target of 0, and says when the whole network is not enough", () => {
    const banks = [{ code: "a", amount: 5n, clients: 1n }, { code: "b", amount: 7n, clients: 2n }];
    const zero = planRobbery(banks, 0n);
    assert.ok(zero.reachable);
    assert.deepEqual([zero.banks.length, zero.amount, zero.clients], [0, 0n, 0n]);
    const tooMuch = planRobbery(banks, 13n);
    assert.equal(tooMuch.reachable, false);
    assert.deepEqual([tooMuch.amount, tooMuch.clients], [12n, 3n]);
    assert.equal(planRobbery([], 1n).reachable, false);
  });

  it("prefers fewer clients over a closer amount, then the smaller amount, then fewer banks", () => {
    const banks = [
      { code: "big", amount: 100n, clients: 10n },
      { code: "b", amount: 60n, clients: 3n },
      { code: "c", amount: 50n, clients: 3n },
    ];
    const plan = planRobbery(banks, 110n);
    assert.ok(plan.reachable);
    assert.deepEqual(plan.banks.map((b) => b.code), ["b", "c"]);
    const tie = planRobbery([{ code: "x", amount: 9n, clients: 2n }, { code: "y", amount: 8n, clients: 2n }], 5n);
    assert.ok(tie.reachable);
    assert.deepEqual(tie.banks.map((b) => b.code), ["y"]);
    const fewer = planRobbery(
      [{ code: "p", amount: 4n, clients: 1n }, { code: "q", amount: 4n, clients: 1n }, { code: "r", amount: 8n, clients: 2n }],
      8n,
    );
    assert.ok(fewer.reachable);
    assert.deepEqual(fewer.banks.map((b) => b.code), ["r"]);
  });

  it("plans whole /24 networks (254 banks, up to 90,000 clients each) no worse than the greedy choice", () => {
    for (const kind of [1, 2, 3]) {
      const rnd = rng(1000 + kind);
      const banks = instance(rnd, 254, kind);
      const total = banks.reduce((s, b) => s + b.amount, 0n);
      for (const percent of [30n, 50n, 90n]) {
        const target = (total * percent) / 100n;
        const plan = planRobbery(banks, target);
        assert.ok(plan.reachable);
        assert.ok(plan.amount >= target);
        // Greedy by amount per client: a valid cover the optimum may not exceed in clients.
        const byRatio = [...banks].sort((a, b) =>
          a.clients === 0n ? -1 : b.clients === 0n ? 1 : Number(b.amount * a.clients - a.amount * b.clients > 0n) * 2 - 1
        );
        let amount = 0n;
        let clients = 0n;
        for (const b of byRatio) {
          if (amount >= target) break;
          amount += b.amount;
          clients += b.clients;
        }
        assert.ok(plan.clients <= clients, `kind ${kind}, ${percent}%: ${plan.clients} > greedy ${clients}`);
      }
    }
  });
});
