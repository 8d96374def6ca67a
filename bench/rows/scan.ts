/** `bank scan` of 127.0.0.0/24 × 11 ports with five banks running: the one-shot process, wall time. */
import { BankNode, runBundle } from "../procs.ts";
import { ADDR, BANK_PORT, type Bench, f0 } from "../context.ts";

/** Runs the scan against `banks` (already running) and reports it. */
export async function scanSection(bench: Bench, banks: BankNode[]): Promise<void> {
  bench.progress("bank scan of 127.0.0.0/24");
  // A bank config that is never served: only the scan command reads it.
  const scanner = new BankNode({ host: ADDR.scanner, port: BANK_PORT, scan_time_out: 0.3, timeout: 1 });
  const baseline = await runBundle(["--version"], scanner.dir);
  const run = await runBundle(["scan", "--subnet", "127.0.0.0/24", "--json", "--config", scanner.configPath], scanner.dir, 120_000);
  if (run.code !== 0) {
    const why = (run.stderr || run.stdout).trim().split("\n")[0] ?? "";
    const note = `bank scan failed (exit ${run.code}): ${why}`;
    bench.results.scan = { ok: false, ms: run.ms, code: run.code, note };
    bench.notes.push(note);
    bench.say(`scan: skipped: ${note}`);
    bench.say();
    return;
  }
  let found: number | undefined;
  let foundOurs: number | undefined;
  try {
    const json = JSON.parse(run.stdout) as { banks?: { code?: string }[] } | { code?: string }[];
    const list = Array.isArray(json) ? json : (json.banks ?? []);
    found = list.length;
    const codes = new Set(list.map((b) => b.code));
    foundOurs = banks.filter((b) => codes.has(b.host)).length;
  } catch {
    // Not JSON we understand: the time still counts.
  }
  const logged = scanner.logEvents("scan").at(-1);
  const s = {
    ok: true,
    ms: run.ms,
    scanMs: typeof logged?.ms === "number" ? logged.ms : undefined,
    probes: typeof logged?.probes === "number" ? logged.probes : undefined,
    processBaselineMs: baseline.ms,
    found,
    foundOurs,
    running: banks.length,
  };
  bench.results.scan = s;
  bench.say(`scan 127.0.0.0/24 × ports 65525–65535 (scan_time_out 0.3 s), ${s.running} banks running: ${f0(s.ms)} ms wall for the one-shot process` +
    (s.scanMs === undefined ? "" : ` (scan itself ${f0(s.scanMs)} ms for ${s.probes ?? "?"} probes; \`bank --version\` takes ${f0(s.processBaselineMs)} ms)`) +
    (s.found === undefined ? "" : `; found ${s.found} banks (${s.foundOurs} of ours)`));
  bench.say();
}
