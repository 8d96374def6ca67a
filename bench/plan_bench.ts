/**
 * Times the robbery planner on whole-/24 networks: 254 banks, up to 90,000 clients each, in four classes
 * (uncorrelated, weakly and strongly correlated, amounts near 2^63 − 1) at targets of 30, 50 and 90 %
 * of the total, 5 seeds each. Run alone: `node --import tsx bench/plan_bench.ts`; bench/run.ts imports it.
 */
import { pathToFileURL } from "node:url";
import process from "node:process";
import { type BankTotals, planRobbery } from "../src/plan/robbery.ts";

/** One class × target row. */
export interface PlanBenchRow {
  class: string;
  targetPct: number;
  medianMs: number;
  maxMs: number;
  /** Runs whose search finished (proved optimal) before the planner's time limit. */
  exact: number;
  runs: number;
}

const SEEDS = 5;
const MAX = 9223372036854775807n;

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLASSES: Record<string, (clients: bigint, rnd: () => number) => bigint> = {
  uncorrelated: (_c, rnd) => BigInt(Math.floor(rnd() * 1e12)),
  "weakly correlated": (c, rnd) => c * 1000n + BigInt(Math.floor(rnd() * 200_000)),
  "strongly correlated": (c) => c * 1000n + 100n,
  "strongly correlated + noise": (c, rnd) => c * 1000n + BigInt(Math.floor(rnd() * 50)),
  "near 2^63 − 1": (_c, rnd) => MAX - BigInt(Math.floor(rnd() * 1e9)),
};

function network(kind: string, seed: number): BankTotals[] {
  const rnd = random(seed);
  return Array.from({ length: 254 }, (_, i) => {
    const clients = BigInt(1 + Math.floor(rnd() * 90_000));
    return { code: `10.0.0.${i + 1}`, clients, amount: CLASSES[kind]!(clients, rnd) };
  });
}

/** Runs every class × target and returns the rows. */
export function runPlanBench(): Promise<PlanBenchRow[]> {
  const rows: PlanBenchRow[] = [];
  for (const kind of Object.keys(CLASSES)) {
    for (const targetPct of [30, 50, 90]) {
      const times: number[] = [];
      let exact = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const banks = network(kind, seed * 7919 + targetPct);
        const total = banks.reduce((s, b) => s + b.amount, 0n);
        const started = performance.now();
        const plan = planRobbery(banks, (total * BigInt(targetPct)) / 100n);
        times.push(performance.now() - started);
        if (plan.reachable && plan.exact) exact++;
      }
      times.sort((a, b) => a - b);
      rows.push({ class: kind, targetPct, medianMs: times[SEEDS >> 1]!, maxMs: times.at(-1)!, exact, runs: SEEDS });
    }
  }
  return Promise.resolve(rows);
}

/** The rows as a table. */
export function formatPlanBench(rows: readonly PlanBenchRow[]): string {
  const lines = ["class                          target  median ms  max ms  proved optimal"];
  for (const r of rows) {
    lines.push(
      `${r.class.padEnd(30)} ${`${r.targetPct}%`.padStart(6)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.maxMs.toFixed(1).padStart(6)}  ${r.exact}/${r.runs}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log("plan time, 254 banks, clients 1–90,000 each, 5 seeds per row");
  console.log(formatPlanBench(await runPlanBench()));
}
