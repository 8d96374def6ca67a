/** Plan time on whole-/24 networks (the planner bench, bench/plan_bench.ts). */
import { formatPlanBench, runPlanBench } from "../plan_bench.ts";
import type { Bench } from "../context.ts";

/** Runs the planner bench and reports it. */
export async function planSection(bench: Bench): Promise<void> {
  const started = performance.now();
  const rows = await runPlanBench();
  bench.results.plan = { wallMs: performance.now() - started, rows };
  bench.say("plan time, 254 banks, clients 1–90,000 each, 5 seeds per row:");
  bench.say(formatPlanBench(rows));
  bench.say();
}
