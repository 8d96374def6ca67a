/** A CPU profile of the bank under one load row (`node --cpu-prof`), summarised by bench/profile_top.ts. */
import { join } from "node:path";
import process from "node:process";
import { type LoadResult, runLoad } from "../loadgen.ts";
import { BankNode, tempDir } from "../procs.ts";
import { formatSummary, readProfile, summarizeProfile } from "../profile_top.ts";
import { ACCOUNTS, ADDR, BANK_PORT, type Bench, f0, SECONDS, WARMUP_SECONDS } from "../context.ts";
import { bankTarget, openAccounts } from "./load.ts";

/** The load row profiled (BENCH_PROFILE_ROW, default 50x1). */
const PROFILE_ROW = (process.env.BENCH_PROFILE_ROW ?? "50x1").split("x").map(Number) as [number, number];

/** Profiles the bank under AD load and reports where its CPU went. */
export async function profileSection(bench: Bench): Promise<void> {
  const profDir = join(tempDir("prof"), "prof");
  const bank = await new BankNode({ host: ADDR.profile, port: BANK_PORT }).start(["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
  let load: LoadResult;
  try {
    const accounts = await openAccounts(bank, ACCOUNTS);
    bench.progress(`profiling: load ${PROFILE_ROW[0]} conn × depth ${PROFILE_ROW[1]}`);
    load = await runLoad(bankTarget(bank, accounts), {
      connections: PROFILE_ROW[0],
      depth: PROFILE_ROW[1],
      durationMs: SECONDS * 1000,
      warmupMs: WARMUP_SECONDS * 1000,
    });
  } catch (error) {
    await bank.stop();
    throw error;
  }
  // SIGTERM: the bank writes its final snapshot, exits 0, and node writes the profile on exit.
  const stopped = await bank.stop();
  const summary = summarizeProfile(readProfile(profDir), 25);
  if (process.env.BENCH_KEEP === "1") bench.progress(`profile kept in ${profDir}`);
  bench.results.profile = { load, exitCode: stopped.code, summary };
  bench.say(`profile of the bank under AD ${PROFILE_ROW[0]} conn × depth ${PROFILE_ROW[1]} (${f0(load.opsPerSec)} ops/s while profiled; exit ${stopped.code}):`);
  bench.say(formatSummary(summary));
  bench.say();
}
