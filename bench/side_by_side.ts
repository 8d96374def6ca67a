/**
 * `node --import tsx bench/side_by_side.ts <bundle> [<bundle> …]`: several builds of the bank (and
 * Redis appendfsync always) under one load row, in alternating rounds, each on a fresh server; per
 * round: ops/s, the server's CPU per operation and its context switches per operation (all threads,
 * from /proc). For telling whether a change helps on a noisy machine: build the two commits into two
 * bundles and compare them round by round.
 *
 * Environment: BENCH_ROW (default 1x1), BENCH_ROUNDS (default 4), BENCH_SECONDS per window (default 3),
 * BENCH_REDIS=0 leaves Redis out. Run it in a network namespace (`unshare -n`), like the bench.
 */
import { basename } from "node:path";
import process from "node:process";
import { type LoadTarget, runLoad } from "./loadgen.ts";
import { BankNode, cleanUp, contextSwitches, cpuMs, RedisNode } from "./procs.ts";
import { ACCOUNTS, ADDR, BANK_PORT, f0, f2 } from "./context.ts";
import { bankTarget, openAccounts, redisTarget, seedRedis } from "./rows/load.ts";

const [connections, depth] = (process.env.BENCH_ROW ?? "1x1").split("x").map(Number) as [number, number];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const REDIS_PORT = 6399;

/** A server to measure: started fresh for each round, stopped after it. */
interface Contender {
  readonly name: string;
  start(): Promise<{ target: LoadTarget; pid: number | undefined; stop(): Promise<unknown> }>;
}

function bank(bundle: string): Contender {
  return {
    name: basename(bundle),
    async start() {
      const node = await new BankNode({ host: ADDR.load, port: BANK_PORT }).start([], bundle);
      return { target: bankTarget(node, await openAccounts(node, ACCOUNTS)), pid: node.pid, stop: () => node.stop() };
    },
  };
}

const redis: Contender = {
  name: "redis always",
  async start() {
    const node = await new RedisNode(ADDR.redis, REDIS_PORT, "always").start();
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => 10000 + i);
    await seedRedis(node, accounts);
    return { target: redisTarget(node, accounts), pid: node.pid, stop: () => node.stop() };
  },
};

/** One round of one contender: its figures over the measured window. */
async function measure(contender: Contender): Promise<string> {
  const server = await contender.start();
  try {
    let cpu = NaN;
    let switches = NaN;
    const result = await runLoad(server.target, {
      connections,
      depth,
      durationMs: SECONDS * 1000,
      warmupMs: 1000,
      onWindowStart: () => {
        cpu = cpuMs(server.pid);
        switches = contextSwitches(server.pid);
      },
      onWindowEnd: () => {
        cpu = cpuMs(server.pid) - cpu;
        switches = contextSwitches(server.pid) - switches;
      },
    });
    return `${f0(result.opsPerSec).padStart(9)} ops/s  ${f0((cpu * 1000) / result.ops).padStart(5)} µs CPU/op  ` +
      `${f2(switches / result.ops).padStart(6)} switches/op  errors ${result.errors}`;
  } finally {
    await server.stop();
  }
}

const bundles = process.argv.slice(2);
if (bundles.length === 0) {
  console.error("usage: node --import tsx bench/side_by_side.ts <bundle.mjs> [<bundle.mjs> …]");
  process.exit(2);
}
const contenders = [...bundles.map(bank), ...(process.env.BENCH_REDIS === "0" ? [] : [redis])];
const width = Math.max(...contenders.map((c) => c.name.length));
try {
  console.log(`${connections} conn × depth ${depth}, ${SECONDS} s windows, ${ROUNDS} rounds`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const contender of contenders) console.log(`round ${round}  ${contender.name.padEnd(width)}  ${await measure(contender)}`);
  }
} finally {
  cleanUp();
}
