/**
 * Where people meet the bank: a person typing in PuTTY (byte by byte, with Backspace and arrow keys), a
 * telnet client, idle timeouts that measure the client's silence, forwards that say whether the other
 * bank may have acted, slow banks in a scan, and a bank that never dials itself.
 * Addresses: 127.0.14.0/24 (banks on .1–.4, fake banks on .20–.22), ports 65525–65535.
 */
import { after, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BankClient, type BankProcess, TestBanks } from "../helpers/bank_process.ts";
import { logRecords, timed, waitForLog } from "../helpers/bank_network.ts";
import { type FakePeer, startFakePeer } from "../helpers/fake_peer.ts";

const PORT = 65525;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fleet = new TestBanks({ port: PORT });
const fakes: FakePeer[] = [];
const startBank = (config: Record<string, unknown> & { host: string }) => fleet.start(config);
const client = (bank: BankProcess) => fleet.client(bank);

async function fake(options: Parameters<typeof startFakePeer>[0]): Promise<FakePeer> {
  const peer = await startFakePeer(options);
  fakes.push(peer);
  return peer;
}

afterEach(() => fleet.closeClients());

/** Stops every bank and fake (each describe calls it: deno test --filter skips a file-level after). */
async function cleanup(): Promise<void> {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  await fleet.stopAll();
}
after(cleanup);

/** Sends bytes one at a time, a few ms apart, as PuTTY does without local line editing. */
async function typeBytes(c: BankClient, ...parts: (string | number)[]): Promise<void> {
  for (const part of parts) {
    const bytes = typeof part === "number" ? [part] : [...new TextEncoder().encode(part)];
    for (const byte of bytes) {
      c.write(Uint8Array.of(byte));
      await sleep(2);
    }
  }
}

const DEL = 0x7f;
const BS = 0x08;
const IAC = 0xff;

describe("a person at PuTTY or telnet", () => {
  after(cleanup);
  const host = "127.0.14.1";

  it("takes the line as the screen shows it: Backspace and DEL erase, typed byte by byte", async () => {
    const bank = await startBank({ host });
    const c = await client(bank);
    await typeBytes(c, "BX", DEL, "C\r\n");
    assert.equal(await c.readLine(), `BC ${host}`);
    await typeBytes(c, "AC\r\n");
    const account = (await c.readLine())!.slice(3);
    await typeBytes(c, `AD ${account} 12`, BS, BS, "345\r\n");
    assert.equal(await c.readLine(), "AD");
    assert.equal(await c.request(`AB ${account}`), "AB 345");
  });

  it("ignores arrow keys and Ctrl+C in the line", async () => {
    const bank = fleet.banks[0]!;
    const c = await client(bank);
    await typeBytes(c, "B", 0x1b, "[D", 0x1b, "[C", "C", 0x03, "\r\n");
    assert.equal(await c.readLine(), `BC ${host}`);
  });

  it("answers a telnet client: negotiation removed, CR NUL line ends, no ER for either", async () => {
    const c = await client(fleet.banks[0]!);
    // What Linux telnet and PuTTY's telnet mode send before the first command.
    c.write(Uint8Array.of(IAC, 0xfb, 0x1f, IAC, 0xfb, 0x20, IAC, 0xfb, 0x18, IAC, 0xfd, 0x03));
    c.write(Uint8Array.of(IAC, 0xfa, 0x1f, 0x00, 0x50, 0x00, 0x18, IAC, 0xf0));
    c.write("BC\r\0BN\r\0");
    assert.equal(await c.readLine(), `BC ${host}`);
    assert.match((await c.readLine())!, /^BN [0-9]+$/);
  });

  it("separates fields by a no-break space as by a space", async () => {
    const c = await client(fleet.banks[0]!);
    const account = (await c.request("AC")).slice(3);
    assert.equal(await c.request(`AB\u00a0${account}`), "AB 0");
    assert.equal(await c.request(`AD\u00a0${account}\u2009100`), "AD");
    assert.equal(await c.request(`AB ${account}`), "AB 100");
  });

  it("logs a refused line with its first bytes, escaped", async () => {
    const bank = fleet.banks[0]!;
    const c = await client(bank);
    c.write(Uint8Array.of(0x41, 0x42, 0x20, 0xfe, 0xfd, 0x0d, 0x0a));
    assert.match((await c.readLine())!, /^ER .*UTF-8/);
    c.write(`${"Z".repeat(9000)}\r\n`);
    assert.match((await c.readLine())!, /^ER .*8192/);
    await waitForLog(bank, (r) => r.event === "command" && r.request === "<invalid_utf8> AB \\xfe\\xfd", "the invalid line's bytes");
    await waitForLog(bank, (r) => r.event === "command" && r.request === `<too_long> ${"Z".repeat(32)}…`, "the long line's head");
  });
});

describe("timeouts that tell the truth", () => {
  after(cleanup);
  const host = "127.0.14.2";
  // A bank that answers BC at once and AD after 1.6 s: slower than client_time_out, faster than timeout.
  const slowHost = "127.0.14.20";
  // A bank that answers BC but never answers a command: the deposit may have arrived there.
  const silentHost = "127.0.14.21";

  it("does not count a slow forward as the client's silence", async () => {
    await fake({
      host: slowHost,
      port: 65527,
      respond: (line) => (line === "BC" ? `BC ${slowHost}` : line === "BA" ? "BA 0" : line === "BN" ? "BN 0" : { writes: ["AD\r\n"], delayMs: 1600 }),
    });
    const bank = await startBank({ host, client_time_out: 1, timeout: 3 });
    const c = await client(bank);
    const { value, ms } = await timed(c.request(`AD 10001/${slowHost} 100`, 5000));
    assert.equal(value, "AD");
    assert.ok(ms >= 1500, `answered after ${ms} ms`);
    assert.equal(await c.request("BC"), `BC ${host}`);
  });

  it("says the outcome is unknown when the request was delivered but not answered, and how to check", async () => {
    await fake({ host: silentHost, port: 65529, respond: (line) => (line === "BC" ? `BC ${silentHost}` : null) });
    const c = await client(fleet.banks[0]!);
    const reply = await c.request(`AD 10001/${silentHost} 100`, 6000);
    assert.doesNotMatch(reply, /cannot be reached/);
    assert.match(reply, new RegExp(`^ER The bank at ${silentHost.replaceAll(".", "\\.")} got the request .*may or may not .*AB 10001/${silentHost.replaceAll(".", "\\.")}`));
    const balance = await c.request(`AB 10001/${silentHost}`, 6000);
    assert.match(balance, /^ER .*got the request but did not answer in time\.$/);
    // Still connected and served: the wait was ours, not the client's silence.
    assert.equal(await c.request("BC"), `BC ${host}`);
  });

  it("says cannot be reached only when nothing was sent", async () => {
    const c = await client(fleet.banks[0]!);
    assert.match(await c.request("AD 10001/127.0.14.99 5", 6000), /^ER The bank at 127\.0\.14\.99 cannot be reached; nothing was sent/);
  });

  it("sends one ER line to an idle client before closing, and logs it as an idle disconnect", async () => {
    const bank = fleet.banks[0]!;
    const c = await client(bank);
    const { value, ms } = await timed(c.readLine(4000));
    assert.equal(value, "ER No command for 1 s; closing the connection.");
    assert.ok(ms >= 900, `after ${ms} ms`);
    await Promise.race([c.closed(), sleep(3000).then(() => assert.fail("the idle connection stays open"))]);
    const record = await waitForLog(bank, (r) => r.event === "idle_disconnect", "an idle disconnect");
    assert.equal(record.seconds, 1);
    assert.ok(!logRecords(bank).some((r) => r.event === "disconnect" && r.peer === record.peer), "also logged as an ordinary disconnect");
  });

  it("answers an RP that takes longer than client_time_out, and counts the host that never answered", async () => {
    // Accepts on a bank port and never answers BC: the scan waits `timeout` for it, as for a slow bank.
    await fake({ host: "127.0.14.22", port: 65531, respond: () => null });
    const c = await client(fleet.banks[0]!);
    const { value, ms } = await timed(c.request("RP 1", 10_000));
    assert.ok(ms >= 2500, `RP took only ${ms} ms, the silent host should have been given 3 s`);
    assert.match(value, /^RP 1 cannot be reached: .* left out \(no valid answer to BC, BA or BN\)\.$/);
    const scan = await waitForLog(fleet.banks[0]!, (r) => r.event === "scan", "the scan's log line");
    const leftOut = scan.left_out as { code: string; port: number; reason: string }[];
    assert.ok(leftOut.some((p) => p.code === "127.0.14.22" && p.port === 65531 && /did not answer/.test(p.reason)), JSON.stringify(leftOut));
    const found = scan.banks as { code: string }[];
    assert.ok(found.some((b) => b.code === slowHost) && found.some((b) => b.code === host), JSON.stringify(found));
  });
});

describe("never forwards to itself", () => {
  after(cleanup);

  it("treats an account naming its host as its own when the bank code differs", async () => {
    const bank = await startBank({ host: "127.0.14.3", bank_code: "127.0.14.4", port: 65533 });
    const c = await client(bank);
    const account = (await c.request("AC")).slice(3);
    assert.match(account, /\/127\.0\.14\.4$/);
    const number = account.split("/")[0];
    assert.equal(await c.request(`AD ${number}/127.0.14.3 70`), "AD");
    assert.equal(await c.request(`AB ${number}/127.0.14.4`), "AB 70");
    const { value, ms } = await timed(c.request("AB 99999/127.0.14.3"));
    assert.equal(value, "ER Account 99999 does not exist.");
    assert.ok(ms < 500, `took ${ms} ms`);
    await sleep(300);
    assert.ok(!logRecords(bank).some((r) => r.event === "forward" || r.event === "forward_failed"), "a forward was logged");
  });

  it("treats 0.0.0.0 and its interface addresses as its own when listening on every address", async () => {
    const bank = await startBank({ host: "0.0.0.0", bank_code: "127.0.14.4", port: 65534 });
    const c = await BankClient.connect("127.0.0.1", 65534);
    try {
      const number = (await c.request("AC")).slice(3).split("/")[0];
      assert.equal(await c.request(`AD ${number}/0.0.0.0 5`), "AD");
      assert.equal(await c.request(`AB ${number}/127.0.0.1`), "AB 5");
    } finally {
      c.close();
    }
    await sleep(300);
    assert.ok(!logRecords(bank).some((r) => r.event === "forward" || r.event === "forward_failed"), "a forward was logged");
  });
});
