/** The conformance report: text for people (one line per check, every byte visible) and JSON for machines. */
import { escapeBytes } from "./bytes.ts";
import type { CheckReport } from "./run.ts";
import { type CheckResult, type ExchangeResult, GROUPS, type Status } from "./types.ts";

const LABEL: Record<Status, string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

/** True when every required check passed (warnings and skipped checks do not count against it). */
export function passed(report: CheckReport): boolean {
  return report.results.every((r) => !r.check.required || r.status !== "fail");
}

function count(report: CheckReport, status: Status): number {
  return report.results.filter((r) => r.status === status).length;
}

/** `"BN\r\n" "B"+"C\r\n"`: the turns of a connection, the separate writes of a turn joined by +. */
function sent(result: ExchangeResult): string {
  return result.exchange.turns.map((t) => t.writes.map((w) => `"${escapeBytes(w)}"`).join("+")).join(" ");
}

function got(result: ExchangeResult): string {
  const bytes = result.received.length > 0 ? `"${escapeBytes(result.received)}"` : "";
  const end = result.outcome === "replied" ? "" : result.outcome === "refused" ? "(refused)" : result.outcome === "closed" ? "(closed)" : "(no reply in time)";
  return [bytes, end].filter((s) => s !== "").join(" ");
}

function exchanges(result: CheckResult): string {
  return result.results
    .map((r) => `${r.exchange.to === "other" ? "other bank: " : ""}${sent(r)} → ${got(r)}`)
    .join("  ·  ");
}

function checkLines(result: CheckResult, width: number): string[] {
  const { check, status } = result;
  const head = `${LABEL[status]}  ${check.id.padEnd(width)}  `;
  if (status === "skip") return [`${head}${check.title} (${result.note})`];
  const lines = [`${head}${exchanges(result)}   expects ${check.expected}`];
  if (status !== "pass") {
    const indent = " ".repeat(6);
    lines.push(`${indent}${result.note ?? check.title}. ${check.why}`);
    lines.push(`${indent}rule: ${check.rule}${check.required ? "" : " (a warning: tolerated, not required)"}`);
  }
  return lines;
}

/** The report as text: a header, the checks grouped, a summary line and the verdict. */
export function reportText(report: CheckReport): string {
  const width = Math.max(...report.results.map((r) => r.check.id.length));
  const mode = [report.write ? "--write" : "read-only", ...(report.forward ? [`forwarding through ${report.forward.code}:${report.forward.port}`] : [])];
  const out = [`bank check ${report.host}:${report.port} (bank code ${report.code}), ${mode.join(", ")}`];
  for (const group of GROUPS) {
    const inGroup = report.results.filter((r) => r.check.group === group);
    if (inGroup.length === 0) continue;
    out.push("", group);
    for (const result of inGroup) out.push(...checkLines(result, width).map((l) => `  ${l}`));
  }
  if (report.accounts.length > 0) out.push("", ...report.accounts);
  const failed = report.results.filter((r) => r.status === "fail");
  const required = failed.filter((r) => r.check.required);
  out.push(
    "",
    `${report.results.length} checks: ${count(report, "pass")} passed, ${failed.length} failed, ${count(report, "warn")} warnings, ` +
      `${count(report, "skip")} skipped; ${report.connections} connections, one at a time, ${report.pauseMs} ms apart, ` +
      `${(report.ms / 1000).toFixed(1)} s`,
    passed(report)
      ? "OK: every required check passes"
      : `NOT OK: ${required.length} required ${required.length === 1 ? "check fails" : "checks fail"}: ${required.map((r) => r.check.id).join(", ")}`,
  );
  return out.join("\n");
}

/** The report as one JSON object; bytes escaped as in the text report. */
export function reportJson(report: CheckReport): string {
  return JSON.stringify({
    bank: { host: report.host, port: report.port, code: report.code },
    write: report.write,
    forward: report.forward ?? null,
    ok: passed(report),
    summary: { pass: count(report, "pass"), fail: count(report, "fail"), warn: count(report, "warn"), skip: count(report, "skip") },
    connections: report.connections,
    ms: Math.round(report.ms),
    accounts: report.accounts,
    checks: report.results.map(({ check, status, note, results }) => ({
      id: check.id,
      group: check.group,
      title: check.title,
      status,
      required: check.required,
      expected: check.expected,
      note: note ?? null,
      rule: check.rule,
      why: check.why,
      exchanges: results.map((r) => ({
        to: r.exchange.to,
        sent: r.exchange.turns.map((t) => t.writes.map((w) => escapeBytes(w))),
        received: escapeBytes(r.received),
        outcome: r.outcome,
        ms: Math.round(r.ms),
      })),
    })),
  });
}
