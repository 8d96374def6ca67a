/** The robbery planner against a brute force over every subset, an exact table for larger tie-heavy networks, and on whole-/24 instances. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BankTotals, planRobbery, type RobberyPlan } from "../../src/plan/robbery.ts";
import { NETWORK_CLASSES } from "../helpers/networks.ts";
import { Rng } from "../helpers/random.ts";

/** Long enough that no search here is cut short: every plan must be proved optimal. */
const NO_LIMIT = 60_000;

interface Best {
  clients: bigint;
  amount: bigint;
  size: number;
}

const better = (x: Best, y: Best | undefined): boolean =>
  !y || x.clients < y.clients || (x.clients === y.clients && (x.amount < y.amount || (x.amount === y.amount && x.size < y.size)));

/** The best set by brute force over every subset (in Gray-code order: one bank in or out per step). */
function bruteForce(banks: readonly BankTotals[], target: bigint): Best | undefined {
  let best: Best | undefined;
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
    if (amount >= target && better({ clients, amount, size }, best)) best = { clients, amount, size };
  }
  return best;
}

/** The best set from a table of the fewest banks reaching each exact (clients, amount), for small values. */
function bySmallTable(banks: readonly BankTotals[], target: bigint): Best | undefined {
  const cs = banks.map((b) => Number(b.clients));
  const as = banks.map((b) => Number(b.amount));
  const maxC = cs.reduce((s, c) => s + c, 0);
  const maxA = as.reduce((s, a) => s + a, 0);
  const width = maxA + 1;
  const fewest = new Int32Array((maxC + 1) * width).fill(-1);
  fewest[0] = 0;
  banks.forEach((_, i) => {
    for (let c = maxC - cs[i]!; c >= 0; c--) {
      for (let a = maxA - as[i]!; a >= 0; a--) {
        const from = fewest[c * width + a]!;
        if (from < 0) continue;
        const to = (c + cs[i]!) * width + a + as[i]!;
        if (fewest[to]! < 0 || fewest[to]! > from + 1) fewest[to] = from + 1;
      }
    }
  });
  for (let c = 0; c <= maxC; c++) {
    for (let a = Number(target); a <= maxA; a++) {
      const size = fewest[c * width + a]!;
      if (size >= 0) return { clients: BigInt(c), amount: BigInt(a), size };
    }
  }
  return undefined;
}

/**
 * The fewest clients of any set reaching the target, by a table dense over client totals: the most money
 * any set of exactly c clients holds, for every c (small client counts only). Undefined when out of reach.
 */
function fewestClientsByTable(banks: readonly BankTotals[], target: bigint): bigint | undefined {
  const total = banks.reduce((s, b) => s + Number(b.clients), 0);
  const most: (bigint | undefined)[] = new Array(total + 1).fill(undefined);
  most[0] = 0n;
  let reach = 0;
  for (const b of banks) {
    const c = Number(b.clients);
    for (let x = reach; x >= 0; x--) {
      const from = most[x];
      if (from === undefined) continue;
      const to = most[x + c];
      if (to === undefined || to < from + b.amount) most[x + c] = from + b.amount;
    }
    reach += c;
  }
  const c = most.findIndex((a) => a !== undefined && a >= target);
  return c < 0 ? undefined : BigInt(c);
}

/** Fails unless the plan names distinct banks of the network, in network order, whose totals are the plan's. */
function assertWellFormed(plan: Reachable, banks: readonly BankTotals[], where: string): void {
  const positions = plan.banks.map((b) => banks.indexOf(b));
  assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!)), `${where}: banks not from the network, or out of order`);
  assert.equal(plan.banks.reduce((s, b) => s + b.amount, 0n), plan.amount, where);
  assert.equal(plan.banks.reduce((s, b) => s + b.clients, 0n), plan.clients, where);
  assert.ok(plan.amount >= plan.target, where);
}

type Reachable = Extract<RobberyPlan, { reachable: true }>;

/** Checks a plan against the known best (undefined: the network holds less than the target). */
function assertBest(plan: RobberyPlan, best: Best | undefined, banks: readonly BankTotals[], where: string): void {
  if (best === undefined) {
    assert.equal(plan.reachable, false, where);
    assert.equal(plan.amount, banks.reduce((s, b) => s + b.amount, 0n), where);
    assert.equal(plan.clients, banks.reduce((s, b) => s + b.clients, 0n), where);
    return;
  }
  assert.ok(plan.reachable, where);
  assert.ok(plan.exact, `${where}: not proved optimal`);
  assert.deepEqual({ clients: plan.clients, amount: plan.amount, size: plan.banks.length }, best, where);
  assertWellFormed(plan, banks, where);
}

const MAX = 9223372036854775807n;

function instance(rng: Rng, n: number, kind: number): BankTotals[] {
  const banks = Array.from({ length: n }, (_, i) => {
    const clients = BigInt(rng.int(0, kind === 0 ? 5 : 90_000));
    const amount = kind === 0
      ? BigInt(rng.int(0, 7)) // tiny values: many ties, zero amounts and zero clients
      : kind === 1
      ? clients * 1000n + rng.big(49n) // strongly correlated with noise
      : kind === 2
      ? MAX - rng.big(1_000_000n) // near 2^63 − 1: sums far past it
      : kind === 3
      ? rng.big(10n ** 12n) // uncorrelated
      : kind === 4
      ? clients * 7n + 3n // exactly linear: amounts tie whenever clients do
      : clients * 3n + rng.big(5n); // kind 5, clients past 2^53 (below): the bounds' floating point is inexact
    return { code: `10.0.${kind}.${i + 1}`, amount, clients: kind === 5 ? 2n ** 60n + clients * 2n ** 20n : clients };
  });
  // copies of earlier banks: identical banks must not make the search (or the answer) wobble
  for (let i = 1; i < n; i++) if (rng.chance(0.15)) banks[i] = { ...banks[rng.int(0, i - 1)]!, code: `10.0.${kind}.${i + 1}` };
  return banks;
}

function targetFor(rng: Rng, banks: readonly BankTotals[]): bigint {
  const total = banks.reduce((s, b) => s + b.amount, 0n);
  if (rng.chance(0.05)) return 0n;
  if (rng.chance(0.05)) return total;
  if (rng.chance(0.05)) return total + 1n;
  return (total * BigInt(rng.int(0, 100))) / 100n;
}

const show = (banks: readonly BankTotals[]) => JSON.stringify(banks, (_k, v) => (typeof v === "bigint" ? String(v) : v));

/** Greedy by amount per client: a valid cover the optimum may not exceed in clients. */
function greedyClients(banks: readonly BankTotals[], target: bigint): bigint {
  const byRatio = [...banks].sort((a, b) => {
    const diff = b.amount * a.clients - a.amount * b.clients;
    return diff > 0n ? 1 : diff < 0n ? -1 : 0;
  });
  let amount = 0n;
  let clients = 0n;
  for (const b of byRatio) {
    if (amount >= target) break;
    amount += b.amount;
    clients += b.clients;
  }
  return clients;
}

describe("planRobbery", () => {
  it("matches a brute force over every subset on 2,000 random networks of up to 20 banks", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const rng = new Rng(seed);
      const n = seed <= 1970 ? rng.int(0, 12) : rng.int(16, 20);
      const banks = instance(rng, n, seed % 6);
      const target = targetFor(rng, banks);
      const where = `seed ${seed}, target ${target}, banks ${show(banks)}`;
      assertBest(planRobbery(banks, target, NO_LIMIT), bruteForce(banks, target), banks, where);
    }
  });

  it("matches an exact table on 60 networks of 30 banks with small values (ties everywhere)", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rng = new Rng(10_000 + seed);
      const linear = seed % 2 === 0;
      const banks = Array.from({ length: 30 }, (_, i) => {
        const clients = BigInt(rng.int(0, 20));
        return { code: `b${i}`, clients, amount: linear ? clients + 1n : BigInt(rng.int(0, 30)) };
      });
      const target = targetFor(rng, banks);
      const where = `seed ${10_000 + seed}, target ${target}, banks ${show(banks)}`;
      assertBest(planRobbery(banks, target, NO_LIMIT), bySmallTable(banks, target), banks, where);
    }
  });

  it("finds the fewest clients a dense table over client totals finds, on 100–254 banks of every hard class", () => {
    let seed = 20_000;
    for (const [kind, amountOf] of Object.entries(NETWORK_CLASSES)) {
      for (const percent of [30n, 50n, 90n]) {
        const rng = new Rng(++seed);
        const banks = Array.from({ length: rng.int(100, 254) }, (_, i) => {
          const clients = BigInt(rng.int(1, 30));
          return { code: `10.1.${i >> 8}.${i & 255}`, clients, amount: amountOf(clients, rng) };
        });
        const target = (banks.reduce((s, b) => s + b.amount, 0n) * percent) / 100n;
        const where = `${kind}, ${banks.length} banks, ${percent}% (seed ${seed})`;
        const plan = planRobbery(banks, target, 2000);
        assert.ok(plan.reachable, where);
        assertWellFormed(plan, banks, where);
        assert.equal(plan.clients, fewestClientsByTable(banks, target), where);
      }
    }
  });

  it("takes nothing for a target of 0, and says when the whole network is not enough", () => {
    const banks = [{ code: "a", amount: 5n, clients: 1n }, { code: "b", amount: 7n, clients: 2n }, { code: "c", amount: 0n, clients: 4n }];
    const zero = planRobbery(banks, 0n);
    assert.ok(zero.reachable && zero.exact);
    assert.deepEqual([zero.banks.length, zero.amount, zero.clients], [0, 0n, 0n]);
    const tooMuch = planRobbery(banks, 13n);
    assert.equal(tooMuch.reachable, false);
    // the whole network: the bank without money counts too
    assert.deepEqual([tooMuch.target, tooMuch.amount, tooMuch.clients], [13n, 12n, 7n]);
    assert.deepEqual(planRobbery([], 1n), { reachable: false, target: 1n, amount: 0n, clients: 0n });
    const empty = planRobbery([], 0n);
    assert.ok(empty.reachable);
    assert.deepEqual(empty.banks, []);
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

  it("takes a bank without clients only when the amount tie-break asks for it", () => {
    // free money is taken when it saves clients ...
    const saves = planRobbery([{ code: "free", amount: 5n, clients: 0n }, { code: "x", amount: 10n, clients: 3n }, { code: "y", amount: 6n, clients: 2n }], 11n);
    assert.ok(saves.reachable);
    assert.deepEqual(saves.banks.map((b) => b.code), ["free", "y"]);
    // ... but not when the clients are the same without it: the smaller amount wins
    const spare = planRobbery([{ code: "free", amount: 5n, clients: 0n }, { code: "x", amount: 10n, clients: 3n }], 10n);
    assert.ok(spare.reachable);
    assert.deepEqual(spare.banks.map((b) => b.code), ["x"]);
    // a bank without money is never taken, even without clients
    const idle = planRobbery([{ code: "idle", amount: 0n, clients: 0n }, { code: "x", amount: 10n, clients: 3n }], 10n);
    assert.ok(idle.reachable);
    assert.deepEqual(idle.banks.map((b) => b.code), ["x"]);
  });

  it("names the network's own bank objects, in network order, and answers the same twice", () => {
    const rng = new Rng(77);
    const banks = instance(rng, 40, 3);
    const target = (banks.reduce((s, b) => s + b.amount, 0n) * 2n) / 5n;
    const plan = planRobbery(banks, target, NO_LIMIT);
    assert.ok(plan.reachable && plan.exact);
    assertWellFormed(plan, banks, "40 uncorrelated banks");
    assert.deepEqual(planRobbery(banks, target, NO_LIMIT), plan);
  });

  it("keeps exact bigint sums far past 2^63 − 1", () => {
    const banks = Array.from({ length: 6 }, (_, i) => ({ code: `h${i}`, amount: MAX - BigInt(i), clients: BigInt(10 - i) }));
    const plan = planRobbery(banks, 3n * MAX - 3n);
    assert.ok(plan.reachable);
    // three banks reach it only as h0 + h1 + h2 (27 clients); the four with the fewest clients (26) beat that
    assert.deepEqual(plan.banks.map((b) => b.code), ["h2", "h3", "h4", "h5"]);
    assert.equal(plan.amount, 4n * MAX - 14n);
    assert.equal(plan.clients, 26n);
  });

  it("answers within its time limit with a valid cover no worse than the greedy one, flagged when not proved", () => {
    const rng = new Rng(4242);
    const banks = instance(rng, 254, 1);
    const target = (banks.reduce((s, b) => s + b.amount, 0n) * 3n) / 10n;
    const plan = planRobbery(banks, target, 0);
    assert.ok(plan.reachable);
    assertWellFormed(plan, banks, "254 noisy correlated banks, no time");
    assert.ok(plan.clients <= greedyClients(banks, target));
  });

  it("plans whole /24 networks (254 banks, up to 90,000 clients each) no worse than the greedy choice", () => {
    for (const kind of [1, 2, 3, 4]) {
      const rng = new Rng(1000 + kind);
      const banks = instance(rng, 254, kind);
      const total = banks.reduce((s, b) => s + b.amount, 0n);
      for (const percent of [30n, 50n, 90n]) {
        const target = (total * percent) / 100n;
        // strongly correlated with noise can take the whole default second without proving the last tie-break
        const plan = planRobbery(banks, target, 200);
        assert.ok(plan.reachable);
        assertWellFormed(plan, banks, `kind ${kind}, ${percent}%`);
        const greedy = greedyClients(banks, target);
        assert.ok(plan.clients <= greedy, `kind ${kind}, ${percent}%: ${plan.clients} > greedy ${greedy}`);
      }
    }
  });
});
