/** Pass 3 of the planner, fewestBanks: against a brute force over every subset, and on the benchmark's hardest networks. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OUT_OF_TIME } from "../../src/plan/deadline.ts";
import { type CountItem, fewestBanks } from "../../src/plan/fewest_banks.ts";
import { NOISE_PLANS, noisePlanInstance } from "../helpers/noise_plans.ts";
import { Rng } from "../helpers/random.ts";

/** Long enough that no search here is cut short. */
const NO_LIMIT = 60_000;

/** The size of the smallest subset with exactly the sums and fewer than `fewerThan` items, by trying every subset. */
function bruteForce(items: readonly CountItem[], sums: CountItem, fewerThan: number): number | undefined {
  let best: number | undefined;
  for (let mask = 0; mask < 1 << items.length; mask++) {
    let clients = 0n;
    let residue = 0n;
    let size = 0;
    items.forEach((it, i) => {
      if (!(mask & (1 << i))) return;
      clients += it.clients;
      residue += it.residue;
      size++;
    });
    if (clients === sums.clients && residue === sums.residue && size < fewerThan && (best === undefined || size < best)) best = size;
  }
  return best;
}

/**
 * The size of the smallest set with exactly the sums (any size), by a table of the fewest items per exact
 * (clients, residue) pair: small non-negative clients and small residues only.
 */
function byTable(items: readonly CountItem[], sums: CountItem): number | undefined {
  const cs = items.map((it) => Number(it.clients));
  const rs = items.map((it) => Number(it.residue));
  const maxC = cs.reduce((s, c) => s + c, 0);
  const low = rs.reduce((s, r) => s + Math.min(r, 0), 0);
  const high = rs.reduce((s, r) => s + Math.max(r, 0), 0);
  const width = high - low + 1;
  const NONE = 0x7fff;
  let fewest = new Int16Array((maxC + 1) * width).fill(NONE);
  fewest[-low] = 0;
  items.forEach((_, i) => {
    const next = fewest.slice();
    for (let c = 0; c + cs[i]! <= maxC; c++) {
      for (let r = 0; r < width; r++) {
        const from = fewest[c * width + r]!;
        const to = (c + cs[i]!) * width + r + rs[i]!;
        if (from !== NONE && r + rs[i]! >= 0 && r + rs[i]! < width && next[to]! > from + 1) next[to] = from + 1;
      }
    }
    fewest = next;
  });
  const c = Number(sums.clients);
  const r = Number(sums.residue) - low;
  const size = c <= maxC && r >= 0 && r < width ? fewest[c * width + r]! : NONE;
  return size === NONE ? undefined : size;
}

/** Fails unless `positions` are distinct positions into `items` whose sums are `sums`. */
function assertExact(items: readonly CountItem[], positions: readonly number[], sums: CountItem, where: string): void {
  assert.equal(new Set(positions).size, positions.length, `${where}: an item taken twice`);
  assert.ok(positions.every((p) => Number.isInteger(p) && p >= 0 && p < items.length), `${where}: not a position`);
  const clients = positions.reduce((s, p) => s + items[p]!.clients, 0n);
  const residue = positions.reduce((s, p) => s + items[p]!.residue, 0n);
  assert.deepEqual({ clients, residue }, sums, where);
}

/** Small items of several shapes: tiny values with many ties and zeros, negative residues, huge values, copies. */
function smallInstance(rng: Rng, n: number, kind: number): CountItem[] {
  const items = Array.from({ length: n }, () => {
    switch (kind) {
      case 0:
        return { clients: BigInt(rng.int(0, 4)), residue: BigInt(rng.int(-3, 3)) };
      case 1:
        return { clients: BigInt(rng.int(1, 90_000)), residue: BigInt(rng.int(0, 49)) };
      case 2:
        return { clients: rng.big(2n ** 70n), residue: rng.big(2n ** 80n) - 2n ** 79n };
      default:
        return { clients: BigInt(rng.int(0, 30)), residue: BigInt(rng.int(-1000, 1000)) };
    }
  });
  for (let i = 1; i < n; i++) if (rng.chance(0.2)) items[i] = items[rng.int(0, i - 1)]!;
  return items;
}

describe("fewestBanks", () => {
  it("finds the fewest items with the sums, or none, as a brute force over every subset does", () => {
    const rng = new Rng(10);
    for (let round = 0; round < 600; round++) {
      const n = rng.int(0, 12);
      const kind = round % 4;
      const items = smallInstance(rng, n, kind);
      // mostly the sums of some subset; sometimes sums no subset may have
      let sums: CountItem;
      if (rng.chance(0.8)) {
        const chosen = items.filter(() => rng.chance(rng.next()));
        sums = { clients: chosen.reduce((s, it) => s + it.clients, 0n), residue: chosen.reduce((s, it) => s + it.residue, 0n) };
      } else {
        sums = { clients: BigInt(rng.int(0, 40)), residue: BigInt(rng.int(-20, 20)) };
      }
      const fewerThan = rng.chance(0.7) ? n + 1 : rng.int(0, n);
      const where = `round ${round}: ${JSON.stringify({ items, sums, fewerThan }, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`;
      const found = fewestBanks(items, sums, { fewerThan, deadline: performance.now() + NO_LIMIT });
      const best = bruteForce(items, sums, fewerThan);
      assert.equal(found?.length, best, where);
      if (found) assertExact(items, found, sums, where);
    }
  });

  it("agrees with a table of the fewest items per exact sums on 30–50 items of small values", () => {
    const rng = new Rng(20);
    for (let round = 0; round < 24; round++) {
      const n = rng.int(30, 50);
      const items = Array.from({ length: n }, () => ({ clients: BigInt(rng.int(0, 25)), residue: BigInt(rng.int(round % 2 ? -4 : 0, 9)) }));
      const chosen = items.filter(() => rng.chance(0.4));
      const sums = rng.chance(0.8)
        ? { clients: chosen.reduce((s, it) => s + it.clients, 0n), residue: chosen.reduce((s, it) => s + it.residue, 0n) }
        : { clients: BigInt(rng.int(0, 300)), residue: BigInt(rng.int(-10, 200)) };
      const where = `round ${round}`;
      const found = fewestBanks(items, sums, { fewerThan: n + 1, deadline: performance.now() + NO_LIMIT });
      assert.equal(found?.length, byTable(items, sums), where);
      if (found) assertExact(items, found, sums, where);
    }
  });

  it("throws OUT_OF_TIME past its deadline", () => {
    const items = smallInstance(new Rng(3), 12, 1);
    const sums = { clients: items[0]!.clients + items[5]!.clients, residue: items[0]!.residue + items[5]!.residue };
    assert.throws(() => fewestBanks(items, sums, { fewerThan: 13, deadline: performance.now() - 1 }), (e) => e === OUT_OF_TIME);
  });
});

describe("fewestBanks on the strongly correlated + noise networks (254 banks)", () => {
  for (const plan of NOISE_PLANS) {
    const { pct, seed, fewest } = plan;
    it(`proves the fewest banks at ${pct} %, seed ${seed}`, () => {
      const { items, sums } = noisePlanInstance(plan);
      // not a timer: generous, so that a slow machine passes, yet far below what an unproven search takes
      const started = performance.now();
      const found = fewestBanks(items, sums, { fewerThan: items.length + 1, deadline: started + 5_000 });
      const ms = performance.now() - started;
      assert.ok(found, "the plan's own banks have these sums");
      assertExact(items, found, sums, `${pct} %, seed ${seed}`);
      if (fewest !== null) assert.equal(found.length, fewest, "the old search's proven count");
      assert.equal(fewestBanks(items, sums, { fewerThan: found.length, deadline: started + 5_000 }), undefined, "a smaller set");
      console.log(`${pct} %, seed ${seed}: ${found.length} banks, proven in ${ms.toFixed(1)} ms`);
    });
  }
});
