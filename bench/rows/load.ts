/**
 * Deposits under load: the bank's AD against redis-server's INCRBY (AOF, fsync always and everysec),
 * closed loop, random account of 1,000, in rounds taken in turn so a noisy neighbour hits all three alike.
 * Each row carries the disk's own figures, probed just before it.
 */
import { existsSync, statSync } from "node:fs";
import process from "node:process";
import { type LatencySummary, type LoadOptions, type LoadResult, type LoadTarget, pipeline, runLoad, Samples } from "../loadgen.ts";
import { BankNode, cpuMs, RedisNode } from "../procs.ts";
import { ACCOUNTS, ADDR, BANK_PORT, type Bench, f0, f2, f3, SECONDS, table, WARMUP_SECONDS } from "../context.ts";
import { type DiskFigures, probeDisk } from "../disk.ts";

/** Load rows as connections×depth (BENCH_ROWS=50x1,50x16 to pick). */
const ROWS: readonly [connections: number, depth: number][] = (process.env.BENCH_ROWS ?? "1x1,1x16,50x1,50x16")
  .split(",")
  .map((r) => r.trim().split("x").map(Number) as [number, number]);
const REDIS_PORT = { always: 6399, everysec: 6398 } as const;
/**
 * Rounds per row (BENCH_ROUNDS, default 3): the row's seconds are split into this many windows per
 * target, taken bank, Redis always, Redis everysec in turn, so that all three see the same moments of
 * a shared machine's disk and CPU rather than one each.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** The issue-13 goal, bank / Redis always, per row. */
const GOALS: Record<string, number> = { "1x1": 1, "50x1": 1, "50x16": 0.7 };

const randomAmount = () => 1 + Math.floor(Math.random() * 100);

/** AD to a random account of `accounts`. */
export function bankTarget(bank: BankNode, accounts: readonly number[]): LoadTarget {
  const suffix = `/${bank.code} `;
  return {
    host: bank.host,
    port: bank.port,
    request: () => `AD ${accounts[Math.floor(Math.random() * accounts.length)]}${suffix}${randomAmount()}\r\n`,
    okPrefix: "AD",
    okExact: true,
  };
}

/** INCRBY to a random key of `accounts`. */
export function redisTarget(redis: RedisNode, accounts: readonly number[]): LoadTarget {
  return {
    host: redis.host,
    port: redis.port,
    request: () => `INCRBY acct:${accounts[Math.floor(Math.random() * accounts.length)]} ${randomAmount()}\r\n`,
    okPrefix: ":",
  };
}

/** Opens `count` accounts with pipelined AC; returns their numbers. */
export async function openAccounts(bank: BankNode, count: number): Promise<number[]> {
  const replies = await pipeline(bank.host, bank.port, Array.from({ length: count }, () => "AC"), 512);
  const accounts: number[] = [];
  for (const reply of replies) {
    const match = /^AC (\d{5})\//.exec(reply);
    if (match === null) throw new Error(`AC answered ${JSON.stringify(reply)}`);
    accounts.push(Number(match[1]));
  }
  return accounts;
}

/** Sets every account's key to 0. */
export async function seedRedis(redis: RedisNode, accounts: readonly number[]): Promise<void> {
  const replies = await pipeline(redis.host, redis.port, accounts.map((a) => `SET acct:${a} 0`), 512);
  const bad = replies.find((r) => r !== "+OK");
  if (bad !== undefined) throw new Error(`SET answered ${JSON.stringify(bad)}`);
}

/** One target's figures over every round of a row. */
interface Measured {
  ops: number;
  errors: number;
  errorSamples: string[];
  durationMs: number;
  opsPerSec: number;
  latencyMs: LatencySummary;
  /** The server's user+system CPU over the windows, as a share of one core. */
  serverCpu: number;
  serverCpuUsPerOp: number;
  loadgenCpu: number;
  /** Ops per second in each round. */
  rounds: number[];
}

/** Adds up the rounds of one target; latencies go into one sample set, so percentiles cover every round. */
class Measurement {
  readonly samples = new Samples();
  readonly results: LoadResult[] = [];
  cpuMs = 0;

  /** Runs one round's window and reads the server's CPU time at its edges. */
  async round(target: LoadTarget, pid: number | undefined, options: Omit<LoadOptions, "samples">): Promise<void> {
    let start = NaN;
    let end = NaN;
    const result = await runLoad(target, {
      ...options,
      samples: this.samples,
      onWindowStart: () => (start = cpuMs(pid)),
      onWindowEnd: () => (end = cpuMs(pid)),
    });
    this.cpuMs += end - start;
    this.results.push(result);
  }

  get figures(): Measured {
    const ops = this.results.reduce((sum, r) => sum + r.ops, 0);
    const durationMs = this.results.reduce((sum, r) => sum + r.durationMs, 0);
    return {
      ops,
      errors: this.results.reduce((sum, r) => sum + r.errors, 0),
      errorSamples: this.results.flatMap((r) => r.errorSamples).slice(0, 5),
      durationMs,
      opsPerSec: ops / (durationMs / 1000),
      latencyMs: this.samples.summary(),
      serverCpu: this.cpuMs / durationMs,
      serverCpuUsPerOp: (this.cpuMs * 1000) / ops,
      loadgenCpu: this.results.reduce((sum, r) => sum + r.loadgenCpu * r.durationMs, 0) / durationMs,
      rounds: this.results.map((r) => r.opsPerSec),
    };
  }
}

interface Row {
  connections: number;
  depth: number;
  /** The disk just before the row: its speed drifts, and with it every durable figure. */
  disk: DiskFigures;
  bank: Measured;
  always?: Measured;
  everysec?: Measured;
  bankVsAlways?: number;
  bankVsEverysec?: number;
  /** bank / Redis always in each round: windows next to each other in time see the same disk. */
  bankVsAlwaysByRound?: number[];
}

async function loadRows(bench: Bench, withRedis: boolean): Promise<Row[]> {
  const bank = await new BankNode({ host: ADDR.load, port: BANK_PORT }).start();
  const redisAlways = withRedis ? await new RedisNode(ADDR.redis, REDIS_PORT.always, "always").start() : undefined;
  const redisEverysec = withRedis ? await new RedisNode(ADDR.redis, REDIS_PORT.everysec, "everysec").start() : undefined;
  try {
    const accounts = await openAccounts(bank, ACCOUNTS);
    for (const redis of [redisAlways, redisEverysec]) if (redis) await seedRedis(redis, accounts);
    const rows: Row[] = [];
    const targets = [
      { name: "bank", target: bankTarget(bank, accounts), pid: bank.pid },
      ...(redisAlways && redisEverysec
        ? [
          { name: "redis always", target: redisTarget(redisAlways, accounts), pid: redisAlways.pid },
          { name: "redis everysec", target: redisTarget(redisEverysec, accounts), pid: redisEverysec.pid },
        ]
        : []),
    ];
    for (const [connections, depth] of ROWS) {
      const disk = await probeDisk(50, 300);
      const measurements = targets.map(() => new Measurement());
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, { name, target, pid }] of targets.entries()) {
          bench.progress(`load ${connections} conn × depth ${depth}: ${name}, round ${round + 1} of ${ROUNDS}`);
          await measurements[i]!.round(target, pid, {
            connections,
            depth,
            durationMs: (SECONDS * 1000) / ROUNDS,
            // Later rounds reuse a warm server: a short warm-up only fills the pipeline again.
            warmupMs: round === 0 ? WARMUP_SECONDS * 1000 : 300,
          });
        }
      }
      const [bankFigures, always, everysec] = measurements.map((m) => m.figures);
      const row: Row = { connections, depth, disk, bank: bankFigures!, always, everysec };
      if (always && everysec) {
        row.bankVsAlways = row.bank.opsPerSec / always.opsPerSec;
        row.bankVsEverysec = row.bank.opsPerSec / everysec.opsPerSec;
        row.bankVsAlwaysByRound = row.bank.rounds.map((ops, i) => ops / always.rounds[i]!);
      }
      rows.push(row);
    }
    const logBytes = existsSync(bank.logPath) ? statSync(bank.logPath).size : 0;
    const journalBytes = existsSync(`${bank.dataPath}.journal`) ? statSync(`${bank.dataPath}.journal`).size : 0;
    const stopped = await bank.stop();
    bench.results.loadBank = { logBytes, journalBytes, exitCode: stopped.code, shutdownMs: stopped.ms };
    return rows;
  } finally {
    await bank.stop();
    await redisAlways?.stop();
    await redisEverysec?.stop();
  }
}

function loadTable(rows: Row[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    const targets: [string, Measured | undefined][] = [["bank (AD)", row.bank], ["redis always", row.always], ["redis everysec", row.everysec]];
    for (const [name, r] of targets) {
      if (r === undefined) continue;
      const first = name === "bank (AD)";
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
        first ? (row.bankVsAlways === undefined ? "-" : `${f2(row.bankVsAlways)}×`) : "",
        first ? (row.bankVsEverysec === undefined ? "-" : `${f2(row.bankVsEverysec)}×`) : "",
        first ? f3(row.disk.p50Ms) : "",
        first ? `${f0(row.disk.syncsPerSec1)} / ${f0(row.disk.syncsPerSec4)}` : "",
      ]);
    }
  }
  return table(
    ["conns", "depth", "target", "ops/s", "p50 ms", "p99 ms", "max ms", "errors", "srv CPU", "CPU µs/op", "loadgen CPU", "bank/always", "bank/everysec", "fdatasync ms", "disk syncs/s 1 / 4"],
    body,
    [true, true, false, true, true, true, true, true, true, true, true, true, true, true, true],
  );
}

/** The load rows, their table, and the goal per row against Redis always. */
export async function loadSection(bench: Bench, withRedis: boolean): Promise<void> {
  const rows = await loadRows(bench, withRedis);
  bench.results.load = rows;
  bench.say("AD deposits (bank, durable per ack) vs INCRBY (redis, AOF) — closed loop, random account of 1,000");
  bench.say("(srv CPU: the server's user+system CPU over the window, share of one core; fdatasync ms: the disk's p50 just");
  bench.say(" before the row; disk syncs/s: fdatasyncs the disk completed per second with 1 and with 4 in flight, same moment)");
  bench.say(loadTable(rows));
  for (const row of rows) {
    for (const r of [row.bank, row.always, row.everysec]) {
      if (r !== undefined && r.errors > 0) bench.say(`  ! ${row.connections}×${row.depth}: ${r.errors} error replies, e.g. ${JSON.stringify(r.errorSamples[0])}`);
    }
  }
  const goals: Record<string, unknown> = {};
  for (const row of rows) {
    const key = `${row.connections}x${row.depth}`;
    const goal = GOALS[key];
    if (goal === undefined || row.bankVsAlways === undefined) continue;
    const met = row.bankVsAlways >= goal;
    goals[key] = { ratio: row.bankVsAlways, goal, met };
    const byRound = row.bankVsAlwaysByRound!.map((r) => `${f2(r)}×`).join(", ");
    bench.say(`goal ${row.connections} × ${row.depth}: bank ≥ ${f2(goal)}× redis always: ${f2(row.bankVsAlways)}× → ${met ? "MET" : "NOT MET"} (rounds: ${byRound})`);
  }
  bench.results.goals = withRedis ? goals : { note: "not checked: no redis" };
  if (!withRedis) bench.say("goals against redis always: not checked (no redis-server)");
  bench.say();
}
