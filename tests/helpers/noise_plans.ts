/**
 * The fewest-banks instances of the planner's hardest benchmark class (issue 10): for each "strongly
 * correlated + noise" network of bench/plan_bench.ts, the clients C and amount A of its least-client,
 * least-amount plans, as `planRobbery` found and proved them (passes 1 and 2; with fewestBanks as pass 3 it
 * proves all 15 plans exact). Residues are amount − 1000 × clients, the class's slope.
 */
import type { CountItem } from "../../src/plan/fewest_banks.ts";
import { network } from "./networks.ts";

/** One network (target `pct` % of its money, seed as in the bench) and the totals of its best plans. */
export interface NoisePlan {
  pct: number;
  seed: number;
  clients: bigint;
  amount: bigint;
  /** The fewest banks where the planner's old pass 3 proved it within 3 s, else null. */
  fewest: number | null;
}

/** The 15 networks of the bench's noise rows: targets 30, 50, 90 %, seeds 1–5. */
export const NOISE_PLANS: readonly NoisePlan[] = [
  { pct: 30, seed: 1, clients: 3366720n, amount: 3366723631n, fewest: null },
  { pct: 30, seed: 2, clients: 3430422n, amount: 3430425666n, fewest: null },
  { pct: 30, seed: 3, clients: 3655255n, amount: 3655258506n, fewest: 86 },
  { pct: 30, seed: 4, clients: 3468822n, amount: 3468825103n, fewest: 74 },
  { pct: 30, seed: 5, clients: 3508437n, amount: 3508440530n, fewest: 83 },
  { pct: 50, seed: 1, clients: 5466014n, amount: 5466018498n, fewest: 126 },
  { pct: 50, seed: 2, clients: 5454109n, amount: 5454113172n, fewest: null },
  { pct: 50, seed: 3, clients: 5854133n, amount: 5854137067n, fewest: null },
  { pct: 50, seed: 4, clients: 5917774n, amount: 5917778457n, fewest: 122 },
  { pct: 50, seed: 5, clients: 5569264n, amount: 5569268699n, fewest: 121 },
  { pct: 90, seed: 1, clients: 10374221n, amount: 10374226684n, fewest: null },
  { pct: 90, seed: 2, clients: 10268894n, amount: 10268899507n, fewest: null },
  { pct: 90, seed: 3, clients: 10327654n, amount: 10327659376n, fewest: null },
  { pct: 90, seed: 4, clients: 9457214n, amount: 9457219940n, fewest: null },
  { pct: 90, seed: 5, clients: 10021911n, amount: 10021916804n, fewest: null },
];

/** The network's banks as fewestBanks sees them, and the sums its plans have. */
export function noisePlanInstance(plan: NoisePlan): { items: CountItem[]; sums: CountItem } {
  const banks = network("strongly correlated + noise", plan.seed * 7919 + plan.pct);
  return {
    items: banks.map((b) => ({ clients: b.clients, residue: b.amount - 1000n * b.clients })),
    sums: { clients: plan.clients, residue: plan.amount - 1000n * plan.clients },
  };
}
