/** 90,000 accounts: creation with pipelined AC, the snapshot, start-up, and memory with 1,000 idle connections. */
import { existsSync, statSync } from "node:fs";
import { LineClient } from "../loadgen.ts";
import { BankNode, sleep } from "../procs.ts";
import { ADDR, BANK_PORT, type Bench, f0, f2 } from "../context.ts";
import { openAccounts } from "./load.ts";

const BIG_ACCOUNTS = 90_000;
const IDLE_CONNECTIONS = 1000;

async function bigBank(bench: Bench) {
  const settings = { host: ADDR.big, port: BANK_PORT, snapshot_interval: 3600, client_time_out: 600 };
  const empty = await new BankNode(settings).start();
  const emptyStartMs = empty.startMs;
  bench.progress(`creating ${BIG_ACCOUNTS.toLocaleString("en-US")} accounts`);
  const createStarted = performance.now();
  const accounts = await openAccounts(empty, BIG_ACCOUNTS);
  const createMs = performance.now() - createStarted;
  if (accounts.length !== BIG_ACCOUNTS) throw new Error(`opened ${accounts.length} accounts`);
  const journalBytes = statSync(`${empty.dataPath}.journal`).size;
  const stopped = await empty.stop();
  const last = empty.logEvents("snapshot").at(-1);
  const snapshot = {
    shutdownMs: stopped.ms,
    exitCode: stopped.code,
    loggedMs: typeof last?.ms === "number" ? last.ms : undefined,
    loggedBytes: typeof last?.bytes === "number" ? last.bytes : undefined,
    fileBytes: statSync(empty.dataPath).size,
    journalBytesBefore: journalBytes,
    journalBytesAfter: existsSync(`${empty.dataPath}.journal`) ? statSync(`${empty.dataPath}.journal`).size : undefined,
  };

  bench.progress("start-up with 90,000 accounts");
  const full = await new BankNode(settings, empty.dir).start();
  const fullStartMs = full.startMs;
  await sleep(300);
  const before = full.memory();
  bench.progress(`opening ${IDLE_CONNECTIONS} idle connections`);
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

/** Runs the 90,000-account figures and reports them. */
export async function bigSection(bench: Bench): Promise<void> {
  const big = await bigBank(bench);
  bench.results.big = big;
  const snap = big.snapshot;
  bench.say(`90,000 accounts:`);
  bench.say(`  create with pipelined AC (window 512, one connection): ${f0(big.createMs)} ms (${f0(big.createPerSec)} AC/s, each durable)`);
  bench.say(`  snapshot on SIGTERM: logged ${snap.loggedMs ?? "?"} ms for ${snap.loggedBytes === undefined ? "?" : f0(snap.loggedBytes)} bytes; ` +
    `SIGTERM to exit ${f0(snap.shutdownMs)} ms (exit ${snap.exitCode}); data file ${f0(snap.fileBytes)} bytes; journal ${f0(snap.journalBytesBefore)} → ${snap.journalBytesAfter ?? "?"} bytes`);
  bench.say(`  start-up to first answered BC: ${f0(big.fullStartMs)} ms with 90,000 accounts (${f0(big.emptyStartMs)} ms empty)`);
  bench.say(`  RSS: ${f0(big.rss.idleKiB / 1024)} MiB idle, ${f0(big.rss.withConnectionsKiB / 1024)} MiB with ${big.rss.connections} idle connections ` +
    `(${f2((big.rss.withConnectionsKiB - big.rss.idleKiB) / big.rss.connections)} KiB each); peak ${f0(big.rss.hwmKiB / 1024)} MiB`);
  bench.say();
}
