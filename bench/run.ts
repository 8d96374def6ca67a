/**
 * `npm run bench`: the bank against redis-server (AOF, fsync always and everysec) under the same load,
 * then forwarding, scan, plan, 90,000 accounts, and a CPU profile of the hot path; the disk's own
 * fdatasync figures at the start, before each load row, and at the end. Prints a report and writes
 * bench/results.json. Each section is a module under bench/rows/.
 *
 * Environment: BENCH_SECONDS (measured seconds per load row, default 5), BENCH_WARMUP (default 1),
 * BENCH_PROFILE=0 skips the profile, BENCH_BUNDLE picks another bank build, BENCH_KEEP=1 keeps the temp dirs,
 * BENCH_ONLY=load,ab,scan,plan,big,profile runs only those sections, BENCH_ROWS=50x1,50x16 picks load rows,
 * BENCH_REDIS=0 leaves Redis out, BENCH_PROFILE_ROW=50x16 profiles another load row, BENCH_ROUNDS (default 3)
 * splits each load row into rounds taken by the bank and Redis in turn.
 */
import { existsSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { BankNode, BUNDLE, cleanUp, redisVersion, ROOT } from "./procs.ts";
import { ACCOUNTS, ADDR, BANK_PORT, type Bench, newBench, SECONDS, WARMUP_SECONDS } from "./context.ts";
import { fileSystemOf, formatDisk, probeDisk } from "./disk.ts";
import { loadSection } from "./rows/load.ts";
import { forwardSection } from "./rows/forward.ts";
import { scanSection } from "./rows/scan.ts";
import { planSection } from "./rows/plan.ts";
import { bigSection } from "./rows/big.ts";
import { profileSection } from "./rows/profile.ts";

/** Sections to run (BENCH_ONLY=load,ab,scan,plan,big,profile; default all). */
const ONLY = new Set((process.env.BENCH_ONLY ?? "load,ab,scan,plan,big,profile").split(",").map((s) => s.trim()));
const PROFILE = process.env.BENCH_PROFILE !== "0" && ONLY.has("profile");

async function machine(bench: Bench, redis: string | undefined): Promise<void> {
  const disk = await probeDisk();
  const info = {
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    memGiB: totalmem() / 2 ** 30,
    node: process.version,
    kernel: release(),
    redis: redis ?? "not installed",
    tmpdir: tmpdir(),
    fileSystem: fileSystemOf(tmpdir()),
    disk,
    loadavgAtStart: loadavg()[0]!,
  };
  bench.results.machine = info;
  bench.say(`machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB.toFixed(1)} GiB, node ${info.node}, Linux ${info.kernel}, ` +
    `redis ${info.redis}; load average ${info.loadavgAtStart.toFixed(2)}`);
  bench.say(`disk: ${info.tmpdir} is ${info.fileSystem}; 40-byte append + ${formatDisk(disk)}`);
}

/** The forwarding and scan rows share their banks: a forwarder, an owner, and three more for the scan. */
async function peerSections(bench: Bench): Promise<void> {
  const forwarder = await new BankNode({ host: ADDR.forwarder, port: BANK_PORT }).start();
  const owner = await new BankNode({ host: ADDR.owner, port: BANK_PORT }).start();
  const extra: BankNode[] = [];
  try {
    if (ONLY.has("ab")) await forwardSection(bench, owner, forwarder);
    if (ONLY.has("scan")) {
      for (const host of ADDR.scanExtra) extra.push(await new BankNode({ host, port: BANK_PORT }).start());
      await scanSection(bench, [forwarder, owner, ...extra]);
    }
  } finally {
    for (const b of [forwarder, owner, ...extra]) await b.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const bench = newBench();
  const redis = redisVersion();
  await machine(bench, redis);
  bench.say(`settings: ${SECONDS} s measured per load row and target (in rounds, after ${WARMUP_SECONDS} s warm-up); ` +
    `${ACCOUNTS} accounts; bundle ${BUNDLE}`);
  if (redis === undefined && ONLY.has("load")) {
    bench.say("redis-server not found: apt-get install redis-server");
    bench.notes.push("Redis columns skipped: redis-server not found");
  }
  bench.say();

  if (ONLY.has("load")) await loadSection(bench, redis !== undefined && process.env.BENCH_REDIS !== "0");
  if (ONLY.has("ab") || ONLY.has("scan")) await peerSections(bench);
  if (ONLY.has("plan")) await planSection(bench);
  if (ONLY.has("big")) await bigSection(bench);
  if (PROFILE) await profileSection(bench);

  const totalS = (performance.now() - bench.started) / 1000;
  // The disk's speed drifts with what else the machine does: probe it again at the end.
  const end = await probeDisk();
  bench.say(`bench took ${totalS.toFixed(1)} s (build not included); now: load average ${loadavg()[0]!.toFixed(2)}; disk: ${formatDisk(end)}`);
  Object.assign(bench.results, {
    totalSeconds: totalS,
    loadavgAtEnd: loadavg()[0],
    diskAtEnd: end,
    notes: bench.notes,
    report: bench.lines.join("\n"),
  });
  const file = join(ROOT, "bench/results.json");
  writeFileSync(file, `${JSON.stringify(bench.results, (_, v) => (typeof v === "bigint" ? String(v) : v), 2)}\n`);
  console.log(`results written to ${file}`);
}

process.on("SIGINT", () => {
  cleanUp();
  process.exit(130);
});
process.on("SIGTERM", () => {
  cleanUp();
  process.exit(143);
});

try {
  await main();
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  cleanUp();
}
