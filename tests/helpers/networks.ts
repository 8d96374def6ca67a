/** The network classes of the planner's tests and benchmark (issue 10): how a bank's money follows its clients. */
import type { BankTotals } from "../../src/plan/robbery.ts";
import { Rng } from "./random.ts";

const MAX = 9223372036854775807n;

/** How each class draws a bank's amount from its number of clients. */
export const NETWORK_CLASSES: Readonly<Record<string, (clients: bigint, rng: Rng) => bigint>> = {
  uncorrelated: (_c, rng) => rng.big(10n ** 12n),
  "weakly correlated": (c, rng) => c * 1000n + rng.big(200_000n),
  "strongly correlated": (c) => c * 1000n + 100n,
  "strongly correlated + noise": (c, rng) => c * 1000n + rng.big(49n),
  "near 2^63 − 1": (_c, rng) => MAX - rng.big(10n ** 9n),
};

/** 254 banks of a class with 1–90,000 clients each, codes 10.0.0.1–254, the same for the same seed. */
export function network(kind: string, seed: number): BankTotals[] {
  const rng = new Rng(seed);
  const amountOf = NETWORK_CLASSES[kind]!;
  return Array.from({ length: 254 }, (_, i) => {
    const clients = BigInt(rng.int(1, 90_000));
    return { code: `10.0.0.${i + 1}`, clients, amount: amountOf(clients, rng) };
  });
}

/**
 * `count` banks whose money equals their clients, 10^9–2·10^9 each: every bank gives the same money per
 * client, so a plan is a subset sum, and the planner searches such a network until its deadline.
 */
export function subsetSumNetwork(seed: number, count: number): BankTotals[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const amount = 10n ** 9n + rng.big(10n ** 9n);
    return { code: `10.0.${i >> 8}.${i & 255}`, clients: amount, amount };
  });
}
