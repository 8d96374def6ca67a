/**
 * `npm run bench`: the bank against redis-server (AOF, fsync always and everysec) under the same load,
 * then forwarding, scan, plan, start-up, snapshot and memory figures, then a CPU profile of the hot
 * path. Prints a report and writes bench/results.json.
 *
 * Environment: BENCH_SECONDS (measured seconds per load row, default 5), BENCH_WARMUP (default 1),
 * BENCH_PROFILE=0 skips the profile, BENCH_BUNDLE picks another bank build, BENCH_KEEP=1 keeps the temp dirs,
 * BENCH_ONLY=load,ab,scan,plan,big,profile runs only those sections, BENCH_ROWS=50x1,50x16 picks load rows,
 * BENCH_REDIS=0 leaves Redis out, BENCH_PROFILE_ROW=50x16 profiles another load row.
 */
import { formatPlanBench, runPlanBench } from "./plan_bench.ts";
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { cpus, loadavg, release, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { LineClient, type LoadResult, type LoadTarget, pipeline, runLoad, Samples } from "./loadgen.ts";
import { BankNode, BUNDLE, cleanUp, cpuMs, redisVersion, RedisNode, ROOT, runBundle, sleep, tempDir } from "./procs.ts";
import { formatSummary, readProfile, summarizeProfile } from "./profile_top.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 1);
/** Sections to run (BENCH_ONLY=load,ab,scan,plan,big,profile; default all). */
const ONLY = new Set((process.env.BENCH_ONLY ?? "load,ab,scan,plan,big,profile").split(",").map((s) => s.trim()));
const PROFILE = process.env.BENCH_PROFILE !== "0" && ONLY.has("profile");
/** The load row profiled (BENCH_PROFILE_ROW, default 50x1). */
const PROFILE_ROW = (process.env.BENCH_PROFILE_ROW ?? "50x1").split("x").map(Number) as [number, number];
/** Load rows as connections×depth (BENCH_ROWS=50x1,50x16 to pick). */
const ROWS: readonly [connections: number, depth: number][] = (process.env.BENCH_ROWS ?? "1x1,1x16,50x1,50x16")
  .split(",")
  .map((r) => r.trim().split("x").map(Number) as [number, number]);
const ACCOUNTS = 1000;
const BIG_ACCOUNTS = 90_000;
const AB_REQUESTS = 2000;
const IDLE_CONNECTIONS = 1000;

/** Loopback addresses and ports this benchmark may use. */
const ADDR = {
  load: "127.0.0.50",
  forwarder: "127.0.0.51",
  owner: "127.0.0.52",
  scanExtra: ["127.0.0.53", "127.0.0.54", "127.0.0.55"],
  scanner: "127.0.0.56",
  big: "127.0.0.57",
  profile: "127.0.0.58",
  redis: "127.0.0.60",
} as const;
const BANK_PORT = 65525;
const REDIS_PORT = { always: 6399, everysec: 6398 } as const;

const results: Record<string, unknown> = {};
const notes: string[] = [];
const benchStarted = performance.now();

function progress(text: string): void {
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");

// ---------------------------------------------------------------------------------------------- machine

/** Times `count` appends of 40 bytes, each followed by fdatasync, in the temp dir the banks use. */
function fsyncProbe(count = 200): { p50Ms: number; p99Ms: number; filesystem: string } {
  const dir = tempDir("fsync");
  const fd = openSync(join(dir, "probe"), "a");
  const samples = new Samples();
  const record = Buffer.alloc(40, 0x41);
  try {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      writeSync(fd, record);
      fdatasyncSync(fd);
      samples.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  let filesystem = "?";
  let best = -1;
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [device, mountPoint, type] = line.split(" ");
    if (mountPoint === undefined || type === undefined) continue;
    if ((dir === mountPoint || dir.startsWith(mountPoint.endsWith("/") ? mountPoint : `${mountPoint}/`)) && mountPoint.length > best) {
      best = mountPoint.length;
      filesystem = `${type} on ${device}`;
    }
  }
  const s = samples.summary();
  return { p50Ms: s.p50, p99Ms: s.p99, filesystem };
}

function machine(redis: string | undefined) {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "?";
  const fsync = fsyncProbe();
  const info = {
    cpu: model,
    cores: cpus().length,
    memGiB: totalmem() / 2 ** 30,
    node: process.version,
    kernel: release(),
    redis: redis ?? "not installed",
    tmpdir: tmpdir(),
    disk: fsync.filesystem,
    fdatasyncP50Ms: fsync.p50Ms,
    fdatasyncP99Ms: fsync.p99Ms,
    loadavgAtStart: loadavg()[0]!,
  };
  results.machine = info;
  return `machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB.toFixed(1)} GiB, node ${info.node}, Linux ${info.kernel}, ` +
    `redis ${info.redis}; disk: ${info.tmpdir} is ${info.disk}, 40-byte append + fdatasync p50 ${f3(info.fdatasyncP50Ms)} ms ` +
    `p99 ${f3(info.fdatasyncP99Ms)} ms; load average ${info.loadavgAtStart.toFixed(2)}`;
}

// ------------------------------------------------------------------------------------------- load rows

const randomAmount = () => 1 + Math.floor(Math.random() * 100);

function bankTarget(bank: BankNode, accounts: readonly number[]): LoadTarget {
  const suffix = `/${bank.code} `;
  return {
    host: bank.host,
    port: bank.port,
    request: () => `AD ${accounts[Math.floor(Math.random() * accounts.length)]}${suffix}${randomAmount()}\r\n`,
    okPrefix: "AD",
    okExact: true,
  };
}

function redisTarget(redis: RedisNode, accounts: readonly number[]): LoadTarget {
  return {
    host: redis.host,
    port: redis.port,
    request: () => `INCRBY acct:${accounts[Math.floor(Math.random() * accounts.length)]} ${randomAmount()}\r\n`,
    okPrefix: ":",
  };
}

/** Opens `count` accounts with pipelined AC; returns their numbers. */
async function openAccounts(bank: BankNode, count: number): Promise<number[]> {
  const replies = await pipeline(bank.host, bank.port, Array.from({ length: count }, () => "AC"), 512);
  const accounts: number[] = [];
  for (const reply of replies) {
    const match = /^AC (\d{5})\//.exec(reply);
    if (match === null) throw new Error(`AC answered ${JSON.stringify(reply)}`);
    accounts.push(Number(match[1]));
  }
  return accounts;
}

async function seedRedis(redis: RedisNode, accounts: readonly number[]): Promise<void> {
  const replies = await pipeline(redis.host, redis.port, accounts.map((a) => `SET acct:${a} 0`), 512);
  const bad = replies.find((r) => r !== "+OK");
  if (bad !== undefined) throw new Error(`SET answered ${JSON.stringify(bad)}`);
}

/** A load result with the server's CPU time over the window. */
type Measured = LoadResult & { serverCpu: number; serverCpuUsPerOp: number };

/** Runs the load and reads the server's CPU time at the edges of the measured window. */
async function measure(target: LoadTarget, pid: number | undefined, connections: number, depth: number): Promise<Measured> {
  let start = NaN;
  let end = NaN;
  const result = await runLoad(target, {
    connections,
    depth,
    durationMs: SECONDS * 1000,
    warmupMs: WARMUP_SECONDS * 1000,
    onWindowStart: () => (start = cpuMs(pid)),
    onWindowEnd: () => (end = cpuMs(pid)),
  });
  const used = end - start;
  return { ...result, serverCpu: used / (SECONDS * 1000), serverCpuUsPerOp: (used * 1000) / result.ops };
}

interface Row {
  connections: number;
  depth: number;
  /** fdatasync p50 just before the row: the disk's speed drifts, and with it every durable figure. */
  fdatasyncP50Ms: number;
  bank: Measured;
  always?: Measured;
  everysec?: Measured;
  bankVsAlways?: number;
  bankVsEverysec?: number;
}

async function loadRows(hasRedis: boolean): Promise<Row[]> {
  const bank = await new BankNode({ host: ADDR.load, port: BANK_PORT }).start();
  const redisAlways = hasRedis ? await new RedisNode(ADDR.redis, REDIS_PORT.always, "always").start() : undefined;
  const redisEverysec = hasRedis ? await new RedisNode(ADDR.redis, REDIS_PORT.everysec, "everysec").start() : undefined;
  try {
    const accounts = await openAccounts(bank, ACCOUNTS);
    for (const redis of [redisAlways, redisEverysec]) if (redis) await seedRedis(redis, accounts);
    const rows: Row[] = [];
    // Interleaved per row, so a noisy neighbour hits all three targets of a row alike.
    for (const [connections, depth] of ROWS) {
      progress(`load ${connections} conn × depth ${depth}: bank`);
      const fdatasyncP50Ms = fsyncProbe(50).p50Ms;
      const row: Row = { connections, depth, fdatasyncP50Ms, bank: await measure(bankTarget(bank, accounts), bank.pid, connections, depth) };
      if (redisAlways && redisEverysec) {
        progress(`load ${connections} conn × depth ${depth}: redis always`);
        row.always = await measure(redisTarget(redisAlways, accounts), redisAlways.pid, connections, depth);
        progress(`load ${connections} conn × depth ${depth}: redis everysec`);
        row.everysec = await measure(redisTarget(redisEverysec, accounts), redisEverysec.pid, connections, depth);
        row.bankVsAlways = row.bank.opsPerSec / row.always.opsPerSec;
        row.bankVsEverysec = row.bank.opsPerSec / row.everysec.opsPerSec;
      }
      rows.push(row);
    }
    const logBytes = existsSync(bank.logPath) ? statSync(bank.logPath).size : 0;
    const journalBytes = existsSync(`${bank.dataPath}.journal`) ? statSync(`${bank.dataPath}.journal`).size : 0;
    const stopped = await bank.stop();
    results.loadBank = { logBytes, journalBytes, exitCode: stopped.code, shutdownMs: stopped.ms };
    return rows;
  } finally {
    await bank.stop();
    await redisAlways?.stop();
    await redisEverysec?.stop();
  }
}

// --------------------------------------------------------------------------------------- forward vs direct

async function sequentialLatency(client: LineClient, line: string, expect: string, count: number) {
  for (let i = 0; i < 50; i++) await client.request(line); // warm-up (and the forwarder's port probe)
  const samples = new Samples();
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const reply = await client.request(line);
    samples.push(performance.now() - t);
    if (reply !== expect) bad++;
  }
  const s = samples.summary();
  return { count, errors: bad, p50Ms: s.p50, p99Ms: s.p99, meanMs: s.mean, maxMs: s.max };
}

/** Like sequentialLatency, but each request on a new connection (connect + request + close), as a forward does. */
async function freshConnectionLatency(bank: BankNode, line: string, expect: string, count: number) {
  const samples = new Samples();
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const client = await LineClient.connect(bank.host, bank.port);
    const reply = await client.request(line);
    client.close();
    samples.push(performance.now() - t);
    if (reply !== expect) bad++;
  }
  const s = samples.summary();
  return { count, errors: bad, p50Ms: s.p50, p99Ms: s.p99, meanMs: s.mean, maxMs: s.max };
}

async function forwardVsDirect(owner: BankNode, forwarder: BankNode) {
  const [reply] = await pipeline(owner.host, owner.port, ["AC"]);
  const account = /^AC (\d{5})\//.exec(reply ?? "")?.[1];
  if (account === undefined) throw new Error(`AC answered ${JSON.stringify(reply)}`);
  await pipeline(owner.host, owner.port, [`AD ${account}/${owner.code} 100`]);
  const line = `AB ${account}/${owner.code}`;
  const direct = await LineClient.connect(owner.host, owner.port);
  const viaForward = await LineClient.connect(forwarder.host, forwarder.port);
  try {
    progress(`AB direct ×${AB_REQUESTS}`);
    const d = await sequentialLatency(direct, line, "AB 100", AB_REQUESTS);
    progress(`AB direct, new connection each ×${AB_REQUESTS}`);
    const fresh = await freshConnectionLatency(owner, line, "AB 100", AB_REQUESTS);
    progress(`AB forwarded ×${AB_REQUESTS}`);
    const fw = await sequentialLatency(viaForward, line, "AB 100", AB_REQUESTS);
    return { direct: d, directNewConnection: fresh, forwarded: fw };
  } finally {
    direct.close();
    viaForward.close();
  }
}

// ---------------------------------------------------------------------------------------------- scan

async function scan(banks: BankNode[]) {
  // A bank config that is never served: only the scan command reads it.
  const scanner = new BankNode({ host: ADDR.scanner, port: BANK_PORT, scan_time_out: 0.3, timeout: 1 });
  const baseline = await runBundle(["--version"], scanner.dir);
  const run = await runBundle(["scan", "--subnet", "127.0.0.0/24", "--json", "--config", scanner.configPath], scanner.dir, 120_000);
  if (run.code !== 0) {
    const why = (run.stderr || run.stdout).trim().split("\n")[0] ?? "";
    return { ok: false as const, ms: run.ms, code: run.code, note: `bank scan failed (exit ${run.code}): ${why}` };
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
  return {
    ok: true as const,
    ms: run.ms,
    scanMs: typeof logged?.ms === "number" ? logged.ms : undefined,
    probes: typeof logged?.probes === "number" ? logged.probes : undefined,
    processBaselineMs: baseline.ms,
    found,
    foundOurs,
    running: banks.length,
  };
}

// ---------------------------------------------------------------------------------------------- plan

async function plan() {
  const started = performance.now();
  const rows = await runPlanBench();
  return { wallMs: performance.now() - started, rows };
}

// ----------------------------------------------------------------------------------- 90,000 accounts

async function bigBank() {
  const settings = { host: ADDR.big, port: BANK_PORT, snapshot_interval: 3600, client_time_out: 600 };
  const empty = await new BankNode(settings).start();
  const emptyStartMs = empty.startMs;
  progress(`creating ${BIG_ACCOUNTS.toLocaleString("en-US")} accounts`);
  const createStarted = performance.now();
  const accounts = await openAccounts(empty, BIG_ACCOUNTS);
  const createMs = performance.now() - createStarted;
  if (accounts.length !== BIG_ACCOUNTS) throw new Error(`opened ${accounts.length} accounts`);
  const journalBytes = statSync(`${empty.dataPath}.journal`).size;
  const stopped = await empty.stop();
  const snapshots = empty.logEvents("snapshot");
  const last = snapshots.at(-1);
  const snapshot = {
    shutdownMs: stopped.ms,
    exitCode: stopped.code,
    loggedMs: typeof last?.ms === "number" ? last.ms : undefined,
    loggedBytes: typeof last?.bytes === "number" ? last.bytes : undefined,
    fileBytes: statSync(empty.dataPath).size,
    journalBytesBefore: journalBytes,
    journalBytesAfter: existsSync(`${empty.dataPath}.journal`) ? statSync(`${empty.dataPath}.journal`).size : undefined,
  };

  progress("start-up with 90,000 accounts");
  const full = await new BankNode(settings, empty.dir).start();
  const fullStartMs = full.startMs;
  await sleep(300);
  const before = full.memory();
  progress(`opening ${IDLE_CONNECTIONS} idle connections`);
  const clients: LineClient[] = [];
  try {
    for (let i = 0; i < IDLE_CONNECTIONS; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, IDLE_CONNECTIONS - i) }, () => LineClient.connect(full.host, full.port)));
      // One BC each: the bank has accepted and set up every session before memory is read.
      await Promise.all(batch.map((c) => c.request("BC")));
      clients.push(...batch);
    }
    await sleep(1000);
    const after = full.memory();
    return {
      createMs,
      createPerSec: BIG_ACCOUNTS / (createMs / 1000),
      emptyStartMs,
      fullStartMs,
      snapshot,
      rss: { idleKiB: before.rssKiB, withConnectionsKiB: after.rssKiB, hwmKiB: after.hwmKiB, connections: clients.length },
    };
  } finally {
    for (const c of clients) c.close();
    await full.stop();
  }
}

// ---------------------------------------------------------------------------------------------- profile

async function profile() {
  const dir = tempDir("prof");
  const profDir = join(dir, "prof");
  const bank = await new BankNode({ host: ADDR.profile, port: BANK_PORT }).start(["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
  let load: LoadResult;
  try {
    const accounts = await openAccounts(bank, ACCOUNTS);
    progress(`profiling: load ${PROFILE_ROW[0]} conn × depth ${PROFILE_ROW[1]}`);
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
  if (process.env.BENCH_KEEP === "1") progress(`profile kept in ${profDir}`);
  return { load, exitCode: stopped.code, summary, text: formatSummary(summary) };
}

// ---------------------------------------------------------------------------------------------- report

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
}

function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = widths.map((w) => "-".repeat(w)).join("  ");
  return [pad(header, widths, right), line, ...rows.map((r) => pad(r, widths, right))].join("\n");
}

function loadTable(rows: Row[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    const targets: [string, Measured | undefined][] = [["bank (AD)", row.bank], ["redis always", row.always], ["redis everysec", row.everysec]];
    for (const [name, r] of targets) {
      if (r === undefined) continue;
      body.push([
        String(row.connections),
        String(row.depth),
        name,
        f0(r.opsPerSec),
        f3(r.latencyMs.p50),
        f3(r.latencyMs.p99),
        f2(r.latencyMs.max),
        String(r.errors),
        `${f0(100 * r.serverCpu)}%`,
        f0(r.serverCpuUsPerOp),
        `${f0(100 * r.loadgenCpu)}%`,
        name === "bank (AD)" ? (row.bankVsAlways === undefined ? "-" : `${f2(row.bankVsAlways)}×`) : "",
        name === "bank (AD)" ? (row.bankVsEverysec === undefined ? "-" : `${f2(row.bankVsEverysec)}×`) : "",
        name === "bank (AD)" ? f3(row.fdatasyncP50Ms) : "",
      ]);
    }
  }
  return table(
    ["conns", "depth", "target", "ops/s", "p50 ms", "p99 ms", "max ms", "errors", "srv CPU", "CPU µs/op", "loadgen CPU", "bank/always", "bank/everysec", "fdatasync ms"],
    body,
    [true, true, false, true, true, true, true, true, true, true, true, true, true, true],
  );
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const redis = redisVersion();
  const out: string[] = [];
  const say = (text = "") => {
    out.push(text);
    console.log(text);
  };
  say(machine(redis));
  say(`settings: ${SECONDS} s measured after ${WARMUP_SECONDS} s warm-up per row; ${ACCOUNTS} accounts; bundle ${BUNDLE}`);
  if (redis === undefined && ONLY.has("load")) {
    say("redis-server not found: apt-get install redis-server");
    notes.push("Redis columns skipped: redis-server not found");
  }
  say();

  if (ONLY.has("load")) await loadSection(redis !== undefined && process.env.BENCH_REDIS !== "0", say);
  if (ONLY.has("ab") || ONLY.has("scan")) await peerSection(say);
  if (ONLY.has("plan")) await planSection(say);
  if (ONLY.has("big")) await bigSection(say);
  if (PROFILE) await profileSection(say);

  const totalS = (performance.now() - benchStarted) / 1000;
  results.totalSeconds = totalS;
  results.loadavgAtEnd = loadavg()[0];
  results.notes = notes;
  results.report = out.join("\n");
  // The disk's fsync latency drifts with what else the machine does: probe it again at the end.
  const end = fsyncProbe();
  results.fdatasyncAtEnd = { p50Ms: end.p50Ms, p99Ms: end.p99Ms };
  say(`bench took ${totalS.toFixed(1)} s (build not included); now: load average ${loadavg()[0]!.toFixed(2)}, ` +
    `fdatasync p50 ${f3(end.p50Ms)} ms p99 ${f3(end.p99Ms)} ms`);
  const file = join(ROOT, "bench/results.json");
  writeFileSync(file, `${JSON.stringify(results, (_, v) => (typeof v === "bigint" ? String(v) : v), 2)}\n`);
  console.log(`results written to ${file}`);
}

type Say = (text?: string) => void;

async function loadSection(withRedis: boolean, say: Say): Promise<void> {
  const rows = await loadRows(withRedis);
  results.load = rows;
  say("AD deposits (bank, durable per ack) vs INCRBY (redis, AOF) — closed loop, random account of 1,000");
  say("(srv CPU: the server's user+system CPU over the window, share of one core; fdatasync ms: the disk's p50 probed just before the row)");
  say(loadTable(rows));
  for (const row of rows) {
    for (const r of [row.bank, row.always, row.everysec]) {
      if (r !== undefined && r.errors > 0) say(`  ! ${row.connections}×${row.depth}: ${r.errors} error replies, e.g. ${JSON.stringify(r.errorSamples[0])}`);
    }
  }
  const gate = rows.find((r) => r.connections === 50 && r.depth === 1);
  if (gate?.bankVsAlways !== undefined) {
    const ratio = gate.bankVsAlways;
    const verdict = ratio >= 1 ? "MET (and the 1.0× aim)" : ratio >= 0.5 ? "MET (0.5× floor; below the 1.0× aim)" : "NOT MET";
    results.requirement = { ratio, floor: 0.5, aim: 1, met: ratio >= 0.5 };
    say(`requirement AD 50 conn × depth 1 ≥ 0.5× redis always: ${f2(ratio)}× → ${verdict}`);
  } else {
    results.requirement = { note: "not checked: no redis" };
    say("requirement AD 50 conn × depth 1 ≥ 0.5× redis always: not checked (no redis-server)");
  }
  say();
}

async function peerSection(say: Say): Promise<void> {
  const forwarder = await new BankNode({ host: ADDR.forwarder, port: BANK_PORT }).start();
  const owner = await new BankNode({ host: ADDR.owner, port: BANK_PORT }).start();
  const extra: BankNode[] = [];
  try {
    if (ONLY.has("ab")) {
      const ab = await forwardVsDirect(owner, forwarder);
      results.ab = ab;
      say(`AB latency, ${AB_REQUESTS} sequential requests each (client on one connection unless said):`);
      say(table(
        ["path", "p50 ms", "p99 ms", "mean ms", "max ms", "errors"],
        [
          ["direct  (client → .52)", f3(ab.direct.p50Ms), f3(ab.direct.p99Ms), f3(ab.direct.meanMs), f2(ab.direct.maxMs), String(ab.direct.errors)],
          ["direct, new connection per request", f3(ab.directNewConnection.p50Ms), f3(ab.directNewConnection.p99Ms), f3(ab.directNewConnection.meanMs), f2(ab.directNewConnection.maxMs), String(ab.directNewConnection.errors)],
          ["forward (client → .51 → .52)", f3(ab.forwarded.p50Ms), f3(ab.forwarded.p99Ms), f3(ab.forwarded.meanMs), f2(ab.forwarded.maxMs), String(ab.forwarded.errors)],
        ],
        [false, true, true, true, true, true],
      ));
      say(`forwarding adds ${f3(ab.forwarded.p50Ms - ab.direct.p50Ms)} ms at p50`);
      say();
    }

    if (ONLY.has("scan")) {
      // Scan with 5 banks running.
      for (const host of ADDR.scanExtra) extra.push(await new BankNode({ host, port: BANK_PORT }).start());
      progress("bank scan of 127.0.0.0/24");
      const s = await scan([forwarder, owner, ...extra]);
      results.scan = s;
      if (s.ok) {
        say(`scan 127.0.0.0/24 × ports 65525–65535 (scan_time_out 0.3 s), ${s.running} banks running: ${f0(s.ms)} ms wall for the one-shot process` +
          (s.scanMs === undefined ? "" : ` (scan itself ${f0(s.scanMs)} ms for ${s.probes ?? "?"} probes; \`bank --version\` takes ${f0(s.processBaselineMs)} ms)`) +
          (s.found === undefined ? "" : `; found ${s.found} banks (${s.foundOurs} of ours)`));
      } else {
        say(`scan: skipped: ${s.note}`);
        notes.push(s.note);
      }
      say();
    }
  } finally {
    for (const b of [forwarder, owner, ...extra]) await b.stop();
  }
}

async function planSection(say: Say): Promise<void> {
  const p = await plan();
  results.plan = p;
  say("plan time, 254 banks, clients 1–90,000 each, 5 seeds per row:");
  say(formatPlanBench(p.rows));
  say();
}

async function bigSection(say: Say): Promise<void> {
  // 90,000 accounts: creation, snapshot, start-up, memory.
  const big = await bigBank();
  results.big = big;
  const snap = big.snapshot;
  say(`90,000 accounts:`);
  say(`  create with pipelined AC (window 512, one connection): ${f0(big.createMs)} ms (${f0(big.createPerSec)} AC/s, each durable)`);
  say(`  snapshot on SIGTERM: logged ${snap.loggedMs ?? "?"} ms for ${snap.loggedBytes === undefined ? "?" : f0(snap.loggedBytes)} bytes; ` +
    `SIGTERM to exit ${f0(snap.shutdownMs)} ms (exit ${snap.exitCode}); data file ${f0(snap.fileBytes)} bytes; journal ${f0(snap.journalBytesBefore)} → ${snap.journalBytesAfter ?? "?"} bytes`);
  say(`  start-up to first answered BC: ${f0(big.fullStartMs)} ms with 90,000 accounts (${f0(big.emptyStartMs)} ms empty)`);
  say(`  RSS: ${f0(big.rss.idleKiB / 1024)} MiB idle, ${f0(big.rss.withConnectionsKiB / 1024)} MiB with ${big.rss.connections} idle connections ` +
    `(${f2((big.rss.withConnectionsKiB - big.rss.idleKiB) / big.rss.connections)} KiB each); peak ${f0(big.rss.hwmKiB / 1024)} MiB`);
  say();
}

async function profileSection(say: Say): Promise<void> {
  const prof = await profile();
  results.profile = { load: prof.load, exitCode: prof.exitCode, summary: prof.summary };
  say(`profile of the bank under AD ${PROFILE_ROW[0]} conn × depth ${PROFILE_ROW[1]} (${f0(prof.load.opsPerSec)} ops/s while profiled; exit ${prof.exitCode}):`);
  say(prof.text);
  say();
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
