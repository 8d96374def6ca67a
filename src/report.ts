/** Formats scan results and robbery plans for the terminal (tables) and for scripts (JSON, bigints as strings). */
import { portRange, type ScannedBank, type ScanResult } from "./peers/scan.ts";
import type { RobberyPlan } from "./plan/robbery.ts";

interface BankRow {
  readonly code: string;
  readonly port: number;
  readonly amount: bigint;
  readonly clients: bigint;
}

function sum(banks: readonly BankRow[], field: "amount" | "clients"): bigint {
  return banks.reduce((total, b) => total + b[field], 0n);
}

/** A fixed-width table: bank code, port, amount, clients, and a total line. */
export function bankTable(banks: readonly BankRow[], totalLabel = "total"): string {
  const rows = [
    ["BANK CODE", "PORT", "AMOUNT", "CLIENTS"],
    ...banks.map((b) => [b.code, String(b.port), String(b.amount), String(b.clients)]),
    [`${totalLabel} (${banks.length} ${banks.length === 1 ? "bank" : "banks"})`, "", String(sum(banks, "amount")), String(sum(banks, "clients"))],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    [r[0]!.padEnd(widths[0]!), r[1]!.padStart(widths[1]!), r[2]!.padStart(widths[2]!), r[3]!.padStart(widths[3]!)]
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]!), rule, ...rows.slice(1, -1).map(line), rule, line(rows.at(-1)!)].join("\n");
}

function bankJson(b: BankRow) {
  return { code: b.code, port: b.port, amount: String(b.amount), clients: String(b.clients) };
}

/** `{"banks":[…],"total":{…}}` with amounts as strings. */
export function scanJson(result: ScanResult): string {
  return JSON.stringify({
    banks: result.banks.map(bankJson),
    total: { banks: result.banks.length, amount: String(sum(result.banks, "amount")), clients: String(sum(result.banks, "clients")) },
    problems: result.problems,
  });
}

/** Lines saying which banks were left out of a scan and why. */
export function problemLines(result: ScanResult): string[] {
  return result.problems.map((p) => `left out ${p.code}:${p.port}: ${p.reason}`);
}

/** What a scan that found no bank says: where it looked. */
export function nothingFoundLine(result: ScanResult): string {
  return `no bank answered on ${result.subnet}, ports ${portRange(result.ports)} (${result.probes} probes)`;
}

/** `{"target","reachable","exact","banks":[…],"amount","clients"}`. */
export function planJson(plan: RobberyPlan<ScannedBank>): string {
  return JSON.stringify({
    target: String(plan.target),
    reachable: plan.reachable,
    exact: plan.reachable ? plan.exact : true,
    banks: plan.reachable ? plan.banks.map(bankJson) : [],
    amount: String(plan.amount),
    clients: String(plan.clients),
  });
}
