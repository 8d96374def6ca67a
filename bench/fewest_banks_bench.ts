/**
 * Times the planner's pass 3, fewestBanks, on the fewest-banks instances of the 15 "strongly correlated +
 * noise" networks of the plan bench (254 banks each): min and median of 7 runs each, after one warm-up run
 * over all. Run alone: `node --import tsx bench/fewest_banks_bench.ts`.
 */
import { fewestBanks } from "../src/plan/fewest_banks.ts";
import { NOISE_PLANS, noisePlanInstance } from "../tests/helpers/noise_plans.ts";

const RUNS = 7;
const instances = NOISE_PLANS.map((plan) => ({ plan, ...noisePlanInstance(plan) }));
const solve = ({ items, sums }: (typeof instances)[number]) =>
  fewestBanks(items, sums, { fewerThan: items.length + 1, deadline: performance.now() + 10_000 });
for (const instance of instances) solve(instance);
console.log("fewestBanks, strongly correlated + noise, 254 banks: fewest banks (proven), min / median ms of 7 runs");
for (const instance of instances) {
  const times: number[] = [];
  let count = 0;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    count = solve(instance)!.length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const { pct, seed } = instance.plan;
  console.log(`${`${pct} %`.padStart(4)}  seed ${seed}  ${String(count).padStart(3)} banks  ${times[0]!.toFixed(1).padStart(6)} / ${times[RUNS >> 1]!.toFixed(1).padStart(6)} ms`);
}
