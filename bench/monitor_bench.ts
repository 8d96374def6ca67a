/**
 * What the monitor page costs the bank: deposit throughput and memory with the monitor off, and on with
 * 10 pages open, each time with 1,000 idle clients connected. Runs alternate off / on (and which comes
 * first) so that drift of a shared machine spreads over both. Other processes only ever slow a run down, so the best run of each
 * side is the one least disturbed: ops/s compares the best runs; CPU per deposit and RSS are medians.
 *
 * A page here is what an open monitor page asks of the bank: one event stream, read as it comes, and
 * the first 50 accounts fetched every 5 s (an open page refreshes its table at most that often while
 * money moves). The browser itself is left out: it would compete with the bank for the same two cores.
 *
 *   npm run build && unshare -n bash -c 'ip link set lo up && node --import tsx bench/monitor_bench.ts'
 *
 * Environment: BENCH_SECONDS (measured seconds per run, default 5), BENCH_ROUNDS (default 4),
 * BENCH_ROWS (connections×depth, default 50x1,50x16).
 */
import { Agent, request } from "node:http";
import process from "node:process";
import { LineClient, pipeline, runLoad } from "./loadgen.ts";
import { BankNode, cleanUp, cpuMs, sleep } from "./procs.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ROWS = (process.env.BENCH_ROWS ?? "50x1,50x16").split(",").map((r) => r.split("x").map(Number) as [number, number]);
const ACCOUNTS = 1000;
const IDLE_CLIENTS = 1000;
const PAGES = 10;
const HOST = "127.0.0.70";
const MONITOR_PORT = 8070;

/** One simulated open page: an event stream and a table refresh every 5 s, over a kept-alive connection as a browser does. */
function openPage(): { events: () => number; close: () => void } {
  let events = 0;
  const headers = { host: `${HOST}:${MONITOR_PORT}` };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const stream = request({ host: HOST, port: MONITOR_PORT, path: "/events", headers }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (text: string) => (events += text.split("\n\n").length - 1));
  });
  stream.on("error", () => {});
  stream.end();
  const refresh = setInterval(() => {
    request({ host: HOST, port: MONITOR_PORT, path: "/api/accounts?offset=0&limit=50&sort=number&order=asc", headers, agent }, (res) =>
      res.resume()).on("error", () => {}).end();
  }, 5000);
  return {
    events: () => events,
    close: () => {
      clearInterval(refresh);
      stream.destroy();
      agent.destroy();
    },
  };
}

interface Run {
  opsPerSec: number;
  /** The bank's CPU time per deposit: less at the mercy of other processes than ops/s. */
  cpuUsPerOp: number;
  /** With the clients (and pages) connected, before the load. */
  idleRssMiB: number;
  /** How much RSS grew from before the pages were opened to then (also measured with the monitor off). */
  pagesRssMiB: number;
  /** The bank's CPU time per second then, in ms: what the open pages cost by themselves. */
  idleCpuMsPerSec: number;
  /** Right after the load. */
  loadedRssMiB: number;
}

async function measure(monitor: boolean, connections: number, depth: number): Promise<Run> {
  const bank = await new BankNode({ host: HOST, port: 65525, ...(monitor ? { monitor: `${HOST}:${MONITOR_PORT}` } : {}) }).start();
  const idle: LineClient[] = [];
  const pages: ReturnType<typeof openPage>[] = [];
  try {
    const replies = await pipeline(HOST, 65525, Array.from({ length: ACCOUNTS }, () => "AC"));
    const accounts = replies.map((r) => r.slice(3));
    for (let i = 0; i < IDLE_CLIENTS; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => LineClient.connect(HOST, 65525)));
      await Promise.all(batch.map((c) => c.request("BC")));
      idle.push(...batch);
    }
    await sleep(1000);
    const rssBeforePages = bank.memory().rssKiB / 1024;
    if (monitor) for (let i = 0; i < PAGES; i++) pages.push(openPage());
    // Long enough for every page to have had its stream and a table refresh; then 6 s with pages open, no load.
    await sleep(5500);
    const idleCpuAtStart = cpuMs(bank.pid);
    await sleep(6000);
    const idleCpuMsPerSec = (cpuMs(bank.pid) - idleCpuAtStart) / 6;
    const idleRssMiB = bank.memory().rssKiB / 1024;
    let n = 0;
    let cpuAtStart = NaN;
    let cpu = NaN;
    const result = await runLoad(
      { host: HOST, port: 65525, okPrefix: "AD", okExact: true, request: () => `AD ${accounts[n++ % ACCOUNTS]} 7\r\n` },
      {
        connections,
        depth,
        durationMs: SECONDS * 1000,
        warmupMs: 1000,
        onWindowStart: () => (cpuAtStart = cpuMs(bank.pid)),
        onWindowEnd: () => (cpu = cpuMs(bank.pid) - cpuAtStart),
      },
    );
    if (result.errors > 0) throw new Error(`errors under load: ${result.errorSamples.join(" | ")}`);
    const events = pages.reduce((sum, p) => sum + p.events(), 0);
    // A page that stopped getting ticks would make the monitor look cheaper than it is.
    if (monitor && events < PAGES * SECONDS) throw new Error(`the pages got only ${events} events`);
    process.stderr.write(
      `  monitor ${monitor ? "on " : "off"}: ${f0(result.opsPerSec)} ops/s, ${(cpu * 1000 / result.ops).toFixed(1)} µs CPU/op, ` +
        `no load ${idleCpuMsPerSec.toFixed(0)} ms CPU/s, RSS ${idleRssMiB.toFixed(1)} MiB\n`,
    );
    return {
      opsPerSec: result.opsPerSec,
      cpuUsPerOp: (cpu * 1000) / result.ops,
      idleRssMiB,
      pagesRssMiB: idleRssMiB - rssBeforePages,
      idleCpuMsPerSec, loadedRssMiB: bank.memory().rssKiB / 1024 };
  } finally {
    for (const p of pages) p.close();
    for (const c of idle) c.close();
    await bank.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f0 = (n: number) => Math.round(n).toLocaleString("en-US");

try {
  console.log(`monitor off vs on (${PAGES} pages), ${IDLE_CLIENTS} idle clients, AD to ${ACCOUNTS} accounts, ${SECONDS} s per run, ${ROUNDS} rounds`);
  console.log(
    "| conns × depth | ops/s off / on (best) | on / off | CPU µs per AD off / on | no load: CPU ms/s off / on | " +
      "RSS MiB before load off / on | growth while pages open off / on | after load off / on |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [connections, depth] of ROWS) {
    const off: Run[] = [];
    const on: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`[monitor bench] ${connections}×${depth} round ${round + 1}/${ROUNDS}\n`);
      // Which goes first alternates too: a run right after another bank's shutdown may start worse off.
      for (const monitor of round % 2 === 0 ? [false, true] : [true, false]) {
        (monitor ? on : off).push(await measure(monitor, connections, depth));
      }
    }
    const best = (runs: Run[]) => Math.max(...runs.map((r) => r.opsPerSec));
    const [offOps, onOps] = [best(off), best(on)];
    const [offCpu, onCpu] = [median(off.map((r) => r.cpuUsPerOp)), median(on.map((r) => r.cpuUsPerOp))];
    const rss = (runs: Run[], key: "idleRssMiB" | "pagesRssMiB" | "loadedRssMiB") => median(runs.map((r) => r[key])).toFixed(1);
    console.log(
      `| ${connections} × ${depth} | ${f0(offOps)} / ${f0(onOps)} | ${(onOps / offOps).toFixed(3)} | ${offCpu.toFixed(1)} / ${onCpu.toFixed(1)} | ` +
        `${median(off.map((r) => r.idleCpuMsPerSec)).toFixed(0)} / ${median(on.map((r) => r.idleCpuMsPerSec)).toFixed(0)} | ` +
        `${rss(off, "idleRssMiB")} / ${rss(on, "idleRssMiB")} | ${rss(off, "pagesRssMiB")} / ${rss(on, "pagesRssMiB")} | ${rss(off, "loadedRssMiB")} / ${rss(on, "loadedRssMiB")} |`,
    );
  }
} finally {
  cleanUp();
}
