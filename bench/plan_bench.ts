/**
 * Times planRobbery on 254 banks: for each class of network and each target (a share of the network's money),
 * several seeded networks, reporting the median and the worst time.
 *
 *   node --import tsx bench/plan_bench.ts
 */
import { pathToFileURL } from "node:url";
import { type BankTotals, planRobbery } from "../src/plan/robbery.ts";

/** One line of the report. */
export interface PlanBenchRow {
  class: string;
  targetPct: number;
  medianMs: number;
  maxMs: number;
}

const BANKS = 254;
const SEEDS = 10;
const TARGET_PCTS = [30, 50, 90];
const MAX_CLIENTS = 90_000;

type Random = () => number;

/** mulberry32: a small seeded generator, so every run times the same networks. */
function random(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A uniform integer in [lo, hi]. */
function between(rnd: Random, lo: bigint, hi: bigint): bigint {
  let x = 0n;
  for (let i = 0; i < 3; i++) x = (x << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
  return lo + (x % (hi - lo + 1n));
}

const clients = (rnd: Random): bigint => between(rnd, 1n, BigInt(MAX_CLIENTS));

/** How a class draws one bank's clients and amount. */
const CLASSES: Record<string, (rnd: Random) => { clients: bigint; amount: bigint }> = {
  uncorrelated: (rnd) => ({ clients: clients(rnd), amount: between(rnd, 1n, 10n ** 12n) }),
  // amount = 1000 * clients + 100: the classic hard class of knapsack
  "strongly correlated": (rnd) => {
    const c = clients(rnd);
    return { clients: c, amount: c * 1000n + 100n };
  },
  // amount within 10% of the amount range around 1000 * clients
  "weakly correlated": (rnd) => {
    const c = clients(rnd);
    const spread = (BigInt(MAX_CLIENTS) * 1000n) / 10n;
    return { clients: c, amount: max(1n, c * 1000n + between(rnd, -spread, spread)) };
  },
  "huge amounts": (rnd) => ({ clients: clients(rnd), amount: 2n ** 63n - 1n - between(rnd, 0n, 2n ** 40n) }),
};

const max = (x: bigint, y: bigint): bigint => (x > y ? x : y);

function network(draw: (rnd: Random) => { clients: bigint; amount: bigint }, seed: number): BankTotals[] {
  const rnd = random(seed);
  return Array.from({ length: BANKS }, (_, i) => ({ code: `10.0.${i >> 8}.${i & 255}`, ...draw(rnd) }));
}

function share(banks: readonly BankTotals[], pct: number): bigint {
  return (banks.reduce((sum, b) => sum + b.amount, 0n) * BigInt(pct)) / 100n;
}

/** Times every class and target on SEEDS networks each (after one untimed run per class, for the JIT). */
export async function runPlanBench(): Promise<PlanBenchRow[]> {
  const rows: PlanBenchRow[] = [];
  for (const [name, draw] of Object.entries(CLASSES)) {
    const warm = network(draw, 0);
    planRobbery(warm, share(warm, 50));
    for (const targetPct of TARGET_PCTS) {
      const times: number[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        const banks = network(draw, seed * 1000 + targetPct);
        const target = share(banks, targetPct);
        const start = performance.now();
        planRobbery(banks, target);
        times.push(performance.now() - start);
        // let a caller's event loop breathe between runs
        await new Promise((resolve) => setImmediate(resolve));
      }
      times.sort((x, y) => x - y);
      rows.push({ class: name, targetPct, medianMs: times[times.length >> 1]!, maxMs: times[times.length - 1]! });
    }
  }
  return rows;
}

function table(rows: readonly PlanBenchRow[]): string {
  const lines = [["class", "target%", "median ms", "max ms"], ...rows.map((r) => [r.class, String(r.targetPct), r.medianMs.toFixed(1), r.maxMs.toFixed(1)])];
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines.map((l) => l.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`planRobbery, ${BANKS} banks, ${SEEDS} networks per row`);
  console.log(table(await runPlanBench()));
}
