/**
 * Times the robbery planner on whole-/24 networks: 254 banks, up to 90,000 clients each, in five classes
 * (uncorrelated, weakly and strongly correlated, strongly correlated with noise, amounts near 2^63 − 1) at
 * targets of 30, 50 and 90 % of the total, 5 seeds each (PLAN_BENCH_SEEDS). Run alone: `node --import tsx
 * bench/plan_bench.ts`; bench/run.ts imports it.
 */
import { pathToFileURL } from "node:url";
import process from "node:process";
import { type BankTotals, planRobbery } from "../src/plan/robbery.ts";
import { network, NETWORK_CLASSES } from "../tests/helpers/networks.ts";

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

/** Networks per row (PLAN_BENCH_SEEDS, default 5): more shows the tail. */
const SEEDS = Math.max(1, Number(process.env.PLAN_BENCH_SEEDS ?? 5));
function share(banks: readonly BankTotals[], pct: number): bigint {
  return (banks.reduce((s, b) => s + b.amount, 0n) * BigInt(pct)) / 100n;
}

/** Runs every class × target (after one untimed plan per class, so the JIT is warm) and returns the rows. */
export async function runPlanBench(): Promise<PlanBenchRow[]> {
  const rows: PlanBenchRow[] = [];
  for (const kind of Object.keys(NETWORK_CLASSES)) {
    const warm = network(kind, 0);
    planRobbery(warm, share(warm, 50));
    for (const targetPct of [30, 50, 90]) {
      const times: number[] = [];
      let exact = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const banks = network(kind, seed * 7919 + targetPct);
        const target = share(banks, targetPct);
        const started = performance.now();
        const plan = planRobbery(banks, target);
        times.push(performance.now() - started);
        if (plan.reachable && plan.exact) exact++;
        // between plans, let a caller's timers and sockets run
        await new Promise((resolve) => setImmediate(resolve));
      }
      times.sort((a, b) => a - b);
      rows.push({ class: kind, targetPct, medianMs: times[SEEDS >> 1]!, maxMs: times.at(-1)!, exact, runs: SEEDS });
    }
  }
  return rows;
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
  console.log(`plan time, 254 banks, clients 1–90,000 each, ${SEEDS} seeds per row`);
  console.log(formatPlanBench(await runPlanBench()));
}
