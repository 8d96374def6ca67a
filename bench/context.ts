/** What every bench row shares: settings from the environment, the report, the results file, progress. */
import process from "node:process";

/** Measured seconds per load row (BENCH_SECONDS, default 5). */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Warm-up seconds per load row (BENCH_WARMUP, default 1). */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 1);
/** Accounts the load rows deposit to. */
export const ACCOUNTS = 1000;
/** The port every bench bank listens on (each on its own loopback address). */
export const BANK_PORT = 65525;

/** Loopback addresses this benchmark may use, one per role. */
export const ADDR = {
  load: "127.0.0.50",
  forwarder: "127.0.0.51",
  owner: "127.0.0.52",
  scanExtra: ["127.0.0.53", "127.0.0.54", "127.0.0.55"],
  scanner: "127.0.0.56",
  big: "127.0.0.57",
  profile: "127.0.0.58",
  redis: "127.0.0.60",
} as const;

/** The report so far and the results file's contents. */
export interface Bench {
  /** Prints a report line and keeps it for results.json. */
  say(text?: string): void;
  /** A progress line on stderr. */
  progress(text: string): void;
  /** What goes to bench/results.json, by section. */
  readonly results: Record<string, unknown>;
  /** Things left out, for the results file. */
  readonly notes: string[];
}

/** A new report, timed from now. */
export function newBench(): Bench & { readonly lines: string[]; readonly started: number } {
  const started = performance.now();
  const lines: string[] = [];
  return {
    started,
    lines,
    results: {},
    notes: [],
    say(text = "") {
      lines.push(text);
      console.log(text);
    },
    progress(text: string) {
      process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
    },
  };
}

/** Whole numbers with thousands separators; "-" for no figure. */
export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
/** Two decimals; "-" for no figure. */
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
/** Three decimals; "-" for no figure. */
export const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
}

/** A plain-text table; `right` says which columns are right-aligned. */
export function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = widths.map((w) => "-".repeat(w)).join("  ");
  return [pad(header, widths, right), line, ...rows.map((r) => pad(r, widths, right))].join("\n");
}
