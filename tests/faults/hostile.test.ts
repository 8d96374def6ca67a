/**
 * Slow and hostile clients: 1,000 idle connections, slowloris clients (a byte a second), 10 MB lines and
 * clients that send thousands of commands but never read. Proves another client keeps being served
 * quickly, each hostile client gets exactly the replies the protocol says, and the bank's RSS stays bounded.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import {
  alive,
  BankClient,
  bankPid,
  type BankProcess,
  cleanUp,
  openFilesLimit,
  pipeline,
  rssMb,
  sleep,
  startBank,
  within,
} from "./fault_helpers.ts";

const HOST = "127.0.12.5";
const PORT = 65530;
const IDLE = 1000;
const RSS_LIMIT_MB = 300;
/** A request on an idle loopback bank takes well under a millisecond; this allows a loaded test machine. */
const SLOW_MS = 500;
const FD_NEEDED = IDLE + 200;
const FD_SKIP = openFilesLimit() < FD_NEEDED
  ? `ulimit -n is ${openFilesLimit()}, below the ${FD_NEEDED} this part needs (raise it with ulimit -n ${FD_NEEDED})`
  : false;

let bank: BankProcess;
let pid: number;
let account: number;

before(async () => {
  bank = await startBank({ host: HOST, port: PORT, max_connections: 2048, client_time_out: 60, snapshot_interval: 3600 });
  pid = bankPid(bank);
  const client = await bank.client();
  const [opened] = await pipeline(client, ["AC"]);
  account = Number(/^AC ([0-9]{5})\//.exec(opened!)?.[1]);
  assert.deepEqual(await pipeline(client, [`AD ${account}/${HOST} 777`]), ["AD"]);
  client.close();
});
after(cleanUp);

/** A well-behaved client doing request/reply for `ms` (at least `min` requests); the slowest reply time. */
async function servedWhile(ms: number, min = 50): Promise<{ count: number; slowest: number }> {
  const client = await bank.client();
  try {
    const end = performance.now() + ms;
    let count = 0;
    let slowest = 0;
    while (performance.now() < end || count < min) {
      const started = performance.now();
      const [balance, code] = await pipeline(client, [`AB ${account}/${HOST}`, "BC"], 5000).catch((error: Error) => {
        throw new Error(`request ${count + 1} of a well-behaved client: ${error.message} (after ${count} served; bank RSS ${rssMb(pid).toFixed(0)} MB)`);
      });
      slowest = Math.max(slowest, performance.now() - started);
      assert.equal(balance, "AB 777");
      assert.equal(code, `BC ${HOST}`);
      count++;
      await sleep(5);
    }
    return { count, slowest };
  } finally {
    client.close();
  }
}

function assertRss(what: string): number {
  const mb = rssMb(pid);
  assert.ok(mb < RSS_LIMIT_MB, `${what}: the bank's RSS is ${mb.toFixed(0)} MB`);
  return mb;
}

/** Samples the bank's RSS every 100 ms until stopped; the peak in MB. */
function watchRss(): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    if (alive(pid)) peak = Math.max(peak, rssMb(pid));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

describe("slow and hostile clients", { timeout: 60_000 }, () => {
  it(`${IDLE} idle connections: all accepted, none disturbed, another client served fast`, { skip: FD_SKIP }, async () => {
    assert.ok(openFilesLimit(pid) >= FD_NEEDED, `the bank's own open-files limit is ${openFilesLimit(pid)}`);
    const idle: BankClient[] = [];
    const disturbed: string[] = [];
    let probing = false;
    for (let i = 0; i < IDLE; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => BankClient.connect(HOST, PORT)));
      for (const c of batch) {
        const n = idle.push(c);
        c.socket.on("data", (d) => probing || disturbed.push(`#${n} got ${JSON.stringify(String(d))}`));
        c.socket.on("close", () => disturbed.push(`#${n} closed`));
      }
    }
    try {
      const { count, slowest } = await servedWhile(2000, 200);
      assert.ok(slowest < SLOW_MS, `with ${IDLE} idle connections a request took ${slowest.toFixed(0)} ms`);
      assert.deepEqual(disturbed, [], "idle connections were refused or written to");
      const mb = assertRss(`${IDLE} idle connections`);
      // They are live connections, not just accepted sockets: some of them are served now.
      probing = true;
      for (const [i, c] of idle.entries()) {
        if (i % 97 === 0) assert.deepEqual(await pipeline(c, ["BN"]), ["BN 1"], `idle connection #${i}`);
      }
      console.log(`hostile: ${IDLE} idle connections, ${count} requests served meanwhile, slowest ${slowest.toFixed(1)} ms, RSS ${mb.toFixed(0)} MB`);
    } finally {
      for (const c of idle) c.close();
    }
  });

  it("slowloris clients (one byte a second) get exactly one reply each; others are served meanwhile", async () => {
    const rss = watchRss();
    // "bc \r\n" a byte a second: the CR ends the line, so the reply comes at the 4th byte; the LF a
    // second later belongs to it (it must not make a second, blank-but-answered line).
    const line = Buffer.from("bc \r\n");
    const slow = await Promise.all(Array.from({ length: 20 }, () => BankClient.connect(HOST, PORT)));
    // Others never finish their line at all.
    const endless = await Promise.all(Array.from({ length: 20 }, () => BankClient.connect(HOST, PORT)));
    const replies: { at: number; line: string }[][] = slow.map(() => []);
    slow.forEach((c, i) => {
      void (async () => {
        for (;;) {
          const reply = await c.readLine(60_000).catch(() => undefined);
          if (reply === undefined) return;
          replies[i]!.push({ at: performance.now(), line: reply });
        }
      })();
    });
    let crSentAt = 0;
    const drip = (async () => {
      for (let i = 0; i < line.length; i++) {
        if (line[i] === 0x0d) crSentAt = performance.now();
        for (const c of slow) c.write(line.subarray(i, i + 1));
        for (const c of endless) c.write("A");
        await sleep(1000);
      }
    })();
    try {
      const { count, slowest } = await servedWhile(4500);
      await drip;
      await sleep(300);
      assert.ok(slowest < SLOW_MS, `with slowloris clients a request took ${slowest.toFixed(0)} ms`);
      replies.forEach((r, i) => {
        assert.deepEqual(r.map((x) => x.line), [`BC ${HOST}`], `slowloris #${i}`);
        assert.ok(r[0]!.at >= crSentAt, `slowloris #${i} was answered before its line ended`);
      });
      // The endless ones are still connected and usable once they end their line.
      for (const c of endless.slice(0, 3)) {
        assert.match((await pipeline(c, [""]))[0]!, /^ER /, "AAAAA is an unknown command");
      }
      const peak = rss.stop();
      assert.ok(peak < RSS_LIMIT_MB, `RSS peaked at ${peak.toFixed(0)} MB`);
      console.log(`hostile: 40 slowloris clients for 5 s, ${count} requests served meanwhile, slowest ${slowest.toFixed(1)} ms, peak RSS ${peak.toFixed(0)} MB`);
    } finally {
      rss.stop();
      for (const c of [...slow, ...endless]) c.close();
    }
  });

  it("a 10 MB line gets one ER and the connection keeps working", async () => {
    const rss = watchRss();
    const client = await bank.client();
    try {
      const variants: [string, Buffer][] = [
        ["10 MB of letters", Buffer.alloc(10 * 1024 * 1024, "A")],
        ["an AD with a 10 MB number", Buffer.concat([Buffer.from(`AD ${account}/${HOST} `), Buffer.alloc(10 * 1024 * 1024, "9")])],
        ["10 MB of bytes that are not UTF-8", Buffer.alloc(10 * 1024 * 1024, 0xff)],
      ];
      for (const [what, body] of variants) {
        client.write(Buffer.concat([body, Buffer.from("\r\nBC\r\n")]));
        const first = await client.readLine(20_000);
        assert.match(first ?? "<closed>", /^ER /, `${what}: first reply`);
        assert.equal(await client.readLine(20_000), `BC ${HOST}`, `${what}: the next command (one ER only)`);
        assert.deepEqual(await pipeline(client, [`AB ${account}/${HOST}`]), ["AB 777"], `${what}: the money is untouched`);
      }
      const peak = rss.stop();
      assert.ok(peak < RSS_LIMIT_MB, `RSS peaked at ${peak.toFixed(0)} MB`);
      console.log(`hostile: 3 lines of 10 MB, one ER each, peak RSS ${peak.toFixed(0)} MB`);
    } finally {
      rss.stop();
      client.close();
    }
  });

  /**
   * `hogs` clients flood `BN`, `AB`, `BC`, `BA` for 4 s and never read: the replies fill the kernel
   * buffers (megabytes per connection), then the bank must stop reading them. Meanwhile another client
   * must get every reply within 5 s, and the bank's RSS must stay under the limit.
   */
  async function neverReading(hogCount: number): Promise<void> {
    const rss = watchRss();
    const hogs: Socket[] = [];
    let sent = 0;
    let flooding = true;
    let flood: Promise<void> | undefined;
    try {
      for (let i = 0; i < hogCount; i++) {
        const socket = connect({ host: HOST, port: PORT });
        await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
        // Never read: the bank's replies back up into its send buffer and ours.
        socket.pause();
        socket.on("error", () => {});
        hogs.push(socket);
      }
      const chunk = Buffer.from(`BN\r\nAB ${account}/${HOST}\r\nBC\r\nBA\r\n`.repeat(2000));
      flood = (async () => {
        while (flooding) {
          for (const socket of hogs) {
            // Keep each hog's own queue short: the point is the bank's memory, not ours.
            if (socket.writableLength < 4 * 1024 * 1024) {
              socket.write(chunk);
              sent += 4 * 2000;
            }
          }
          await sleep(20);
        }
      })();
      const { count, slowest } = await servedWhile(4000, 5);
      flooding = false;
      await flood;
      const peak = rss.stop();
      console.log(
        `hostile: ${hogCount} client(s) sent ${sent} commands without reading; ${count} requests served meanwhile, ` +
          `slowest ${slowest.toFixed(0)} ms; peak RSS ${peak.toFixed(0)} MB`,
      );
      assert.ok(sent >= 10_000, `only ${sent} commands sent`);
      assert.ok(peak < RSS_LIMIT_MB, `with ${hogCount} client(s) that never read, the bank's RSS peaked at ${peak.toFixed(0)} MB`);
      for (const socket of hogs) socket.destroy();
      await sleep(200);
      assert.ok(alive(pid), "the bank died");
      const later = await bank.client();
      assert.deepEqual(await within(pipeline(later, ["BC", `AB ${account}/${HOST}`]), 10_000, "after the hogs left"), [`BC ${HOST}`, "AB 777"]);
      later.close();
    } finally {
      flooding = false;
      await flood?.catch(() => {});
      rss.stop();
      for (const socket of hogs) socket.destroy();
    }
  }

  it("a client that sends thousands of commands and never reads: memory bounded, others served", async () => {
    await neverReading(1);
  });

  it("ten such clients at once: memory bounded, others served", async () => {
    await neverReading(10);
  });
});
