/**
 * The built bank over TCP, as a client at a terminal sees it: every command and reply, every error,
 * line ends and framing, bigints, concurrency, idle timeout, connection limit, Czech texts.
 * Addresses: 127.0.0.2–127.0.0.9 (127.0.0.8 hosts a silent fake bank, 127.0.0.9 has no bank), port 65530.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { BankClient, BankProcess, stopWithin, TestBanks } from "../helpers/bank_process.ts";

const PORT = 65530;
const MAX = "9223372036854775807";

const fleet = new TestBanks({ port: PORT });
const startBank = (config: Record<string, unknown> & { host: string; port?: number }) => fleet.start(config);
const client = (bank: BankProcess) => fleet.client(bank);
/** Stops every bank started so far; each describe calls it (deno test --filter skips a file-level after). */
const stopBanks = () => fleet.stopAll();

afterEach(() => fleet.closeClients());
after(stopBanks);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asserts an error reply: `ER ` and a message that mentions each of `mentions`. */
function assertER(reply: string, ...mentions: (string | RegExp)[]): void {
  assert.match(reply, /^ER \S/, `expected an ER reply, got ${JSON.stringify(reply)}`);
  for (const m of mentions) {
    if (typeof m === "string") assert.ok(reply.includes(m), `${JSON.stringify(reply)} should mention ${m}`);
    else assert.match(reply, m);
  }
}

/** Asserts that nothing more arrives within `ms`. */
async function assertSilent(c: BankClient, ms = 300): Promise<void> {
  await assert.rejects(c.readLine(ms), /no reply within/, "expected no reply");
}

/** Opens an account over `c`; its number. */
async function openAccount(c: BankClient, host: string): Promise<string> {
  const reply = await c.request("AC");
  const match = reply.match(/^AC (\d{5})\/(\S+)$/);
  assert.ok(match, `AC reply ${JSON.stringify(reply)}`);
  assert.equal(match[2], host);
  return match[1]!;
}

/** A raw socket that collects everything the bank sends. */
function rawConnect(host: string, port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port }, () => {
      socket.off("error", reject);
      resolve({ socket, received: () => Buffer.concat(chunks), closed });
    });
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.once("error", reject);
  });
}

describe("bank over TCP: commands and replies", () => {
  after(stopBanks);
  const HOST = "127.0.0.2";
  let bank: BankProcess;
  before(async () => {
    bank = await startBank({ host: HOST });
  });

  it("answers BC with its bank code", async () => {
    const c = await client(bank);
    assert.equal(await c.request("BC"), `BC ${HOST}`);
  });

  it("ends every reply with CR LF", async () => {
    const raw = await rawConnect(HOST, PORT);
    raw.socket.write("BC\n");
    await sleep(200);
    raw.socket.destroy();
    assert.equal(raw.received().toString("utf8"), `BC ${HOST}\r\n`);
  });

  it("opens accounts with AC under distinct free numbers, counted by BN", async () => {
    const c = await client(bank);
    const before = BigInt((await c.request("BN")).replace(/^BN /, ""));
    const a = await openAccount(c, HOST);
    const b = await openAccount(c, HOST);
    assert.notEqual(a, b);
    assert.equal(await c.request(`AB ${a}/${HOST}`), "AB 0");
    assert.equal(await c.request("BN"), `BN ${before + 2n}`);
  });

  it("deposits with AD, withdraws with AW, shows the balance with AB, and BA sums it", async () => {
    const c = await client(bank);
    const baBefore = BigInt((await c.request("BA")).replace(/^BA /, ""));
    const a = await openAccount(c, HOST);
    assert.equal(await c.request(`AD ${a}/${HOST} 3000`), "AD");
    assert.equal(await c.request(`AB ${a}/${HOST}`), "AB 3000");
    assert.equal(await c.request(`AW ${a}/${HOST} 1234`), "AW");
    assert.equal(await c.request(`AB ${a}/${HOST}`), "AB 1766");
    assert.equal(await c.request("BA"), `BA ${baBefore + 1766n}`);
    assert.equal(await c.request(`AW ${a}/${HOST} 1766`), "AW");
    assert.equal(await c.request(`AB ${a}/${HOST}`), "AB 0");
  });

  it("closes an empty account with AR; it is gone afterwards", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    const bn = await c.request("BN");
    assert.equal(await c.request(`AR ${a}/${HOST}`), "AR");
    assert.equal(await c.request("BN"), `BN ${BigInt(bn.slice(3)) - 1n}`);
    assertER(await c.request(`AB ${a}/${HOST}`), a);
    assertER(await c.request(`AD ${a}/${HOST} 1`), a);
  });

  it("matches command codes case-insensitively and replies in upper case", async () => {
    const c = await client(bank);
    assert.equal(await c.request("bc"), `BC ${HOST}`);
    const reply = await c.request("ac");
    assert.match(reply, /^AC \d{5}\//);
    const a = reply.slice(3, 8);
    assert.equal(await c.request(`Ad ${a}/${HOST} 5`), "AD");
    assert.equal(await c.request(`aW ${a}/${HOST} 2`), "AW");
    assert.equal(await c.request(`ab ${a}/${HOST}`), "AB 3");
    assert.match(await c.request("bA"), /^BA \d+$/);
    assert.match(await c.request("bn"), /^BN \d+$/);
  });

  it("trims whitespace and accepts tabs and runs of spaces between fields", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    assert.equal(await c.request(`  \tAD\t\t${a}/${HOST}    7 \t`), "AD");
    assert.equal(await c.request(`AB  ${a}/${HOST}`), "AB 7");
  });

  it("answers pipelined lines sent in one write in order", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    c.write(
      `AD ${a}/${HOST} 10\r\nAB ${a}/${HOST}\r\nXX\r\nAW ${a}/${HOST} 4\r\nAB ${a}/${HOST}\r\nBC\r\nAW ${a}/${HOST} 100\r\nAB ${a}/${HOST}\r\n`,
    );
    const replies: string[] = [];
    for (let i = 0; i < 8; i++) replies.push((await c.readLine())!);
    assert.equal(replies[0], "AD");
    assert.equal(replies[1], "AB 10");
    assertER(replies[2]!, "XX");
    assert.equal(replies[3], "AW");
    assert.equal(replies[4], "AB 6");
    assert.equal(replies[5], `BC ${HOST}`);
    assertER(replies[6]!, a);
    assert.equal(replies[7], "AB 6");
  });

  it("answers a thousand pipelined deposits in order and exactly", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    let batch = "";
    for (let i = 1; i <= 1000; i++) batch += i % 100 === 0 ? `AB ${a}/${HOST}\r\n` : `AD ${a}/${HOST} ${i}\r\n`;
    c.write(batch);
    let sum = 0;
    for (let i = 1; i <= 1000; i++) {
      const reply = await c.readLine();
      if (i % 100 === 0) assert.equal(reply, `AB ${sum}`, `reply ${i}`);
      else {
        assert.equal(reply, "AD", `reply ${i}`);
        sum += i;
      }
    }
  });

  it("answers everything, in order, to a client that sends 40000 lines before reading any reply", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    c.socket.pause(); // not reading: the bank must hold back, not drop or reorder
    const lines: string[] = [];
    for (let i = 0; i < 40_000; i++) lines.push(i % 1000 === 999 ? `AB ${a}/${HOST}` : i % 2 ? "BC" : `AD ${a}/${HOST} 1`);
    c.write(`${lines.join("\r\n")}\r\n`);
    await sleep(500);
    c.socket.resume();
    let deposits = 0;
    for (let i = 0; i < lines.length; i++) {
      const reply = await c.readLine(10_000);
      if (i % 1000 === 999) assert.equal(reply, `AB ${deposits}`, `reply ${i}`);
      else if (i % 2) assert.equal(reply, `BC ${HOST}`, `reply ${i}`);
      else {
        assert.equal(reply, "AD", `reply ${i}`);
        deposits++;
      }
    }
    assert.equal(await c.request(`AB ${a}/${HOST}`), `AB ${deposits}`);
  });

  it("puts together a command split across writes with pauses", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    for (const part of ["A", "D ", a.slice(0, 2), `${a.slice(2)}/127.0`, `.0.2 4`, "2\r", "\n"]) {
      c.write(part);
      await sleep(40);
    }
    assert.equal(await c.readLine(), "AD");
    assert.equal(await c.request(`AB ${a}/${HOST}`), "AB 42");
    await assertSilent(c, 200);
  });

  it("accepts CR-only and LF-only line ends, and a CR LF split across writes", async () => {
    const c = await client(bank);
    c.write("BC\rBC\nBC\r");
    // A lone CR ends the line at once: the third reply comes before any LF is sent.
    for (let i = 0; i < 3; i++) assert.equal(await c.readLine(1000), `BC ${HOST}`);
    // The LF that follows, in the next write, belongs to that CR: no second line, no reply.
    c.write("\nBC\r\n");
    assert.equal(await c.readLine(), `BC ${HOST}`);
    await assertSilent(c, 200);
  });

  it("gives no reply to empty and blank lines", async () => {
    const c = await client(bank);
    c.write("\r\n\n\r  \r\n\t\t\r\n");
    await assertSilent(c);
    assert.equal(await c.request("BC"), `BC ${HOST}`);
    await assertSilent(c, 200);
  });

  it("answers every reply of a client that half-closes after sending (printf … | nc)", async () => {
    const raw = await rawConnect(HOST, PORT);
    raw.socket.end("AC\r\nBA\r\nBC\r\n");
    await Promise.race([raw.closed, sleep(3000)]);
    const lines = raw.received().toString("utf8").split("\r\n");
    raw.socket.destroy();
    assert.match(lines[0] ?? "", /^AC \d{5}\/127\.0\.0\.2$/, JSON.stringify(lines));
    assert.match(lines[1] ?? "", /^BA \d+$/, JSON.stringify(lines));
    assert.equal(lines[2], `BC ${HOST}`, JSON.stringify(lines));
  });

  it("handles 25 concurrent clients each depositing 1 on one account 200 times exactly", async () => {
    const first = await client(bank);
    const a = await openAccount(first, HOST);
    const all = await Promise.all(Array.from({ length: 25 }, () => client(bank)));
    await Promise.all(all.map(async (c) => {
      for (let i = 0; i < 200; i++) assert.equal(await c.request(`AD ${a}/${HOST} 1`), "AD");
    }));
    assert.equal(await first.request(`AB ${a}/${HOST}`), "AB 5000");
  });
});

describe("bank over TCP: errors", () => {
  after(stopBanks);
  const HOST = "127.0.0.3";
  let bank: BankProcess;
  let c: BankClient;
  let account: string;
  const messages = new Map<string, string>();

  before(async () => {
    bank = await startBank({ host: HOST });
    const setup = await bank.client();
    account = await openAccount(setup, HOST);
    setup.close();
  });

  /** Sends `line`, expects an ER mentioning `mentions`, records the message, and checks the connection still works. */
  async function expectError(what: string, line: string | Uint8Array, ...mentions: (string | RegExp)[]): Promise<string> {
    c = await client(bank);
    let reply: string | undefined;
    if (typeof line === "string") reply = await c.request(line);
    else {
      c.write(line);
      reply = await c.readLine();
    }
    assert.ok(reply !== undefined, `${what}: the connection closed`);
    assertER(reply, ...mentions);
    const key = reply.replace(/\d{5}|'[^']*'|\d+(\.\d+){3}/g, "#");
    const other = messages.get(key);
    assert.ok(other === undefined || other === what, `${what} has the same message as ${other}: ${reply}`);
    messages.set(key, what);
    // After an ER the connection stays open and usable.
    assert.equal(await c.request("BC"), `BC ${HOST}`, `${what}: connection unusable after ER`);
    return reply;
  }

  it("refuses an unknown command, naming it", async () => {
    await expectError("unknown command", "XY 1 2", "XY");
    await expectError("unknown command", "HELLO", "HELLO");
  });

  it("refuses a command with missing fields, showing the expected form", async () => {
    await expectError("wrong number of fields", "AD 10000/127.0.0.3", "AD <account>/<ip> <number>");
    await expectError("wrong number of fields", "AB", "AB <account>/<ip>");
  });

  it("refuses a command with extra fields, showing the expected form", async () => {
    await expectError("wrong number of fields", `AB ${account}/${HOST} 5`, "AB <account>/<ip>");
    await expectError("wrong number of fields", "BC now", "BC");
  });

  it("refuses a malformed account", async () => {
    await expectError("malformed account", `AB abcde/${HOST}`, "abcde");
    await expectError("malformed account", `AB 1000/${HOST}`, "1000");
    await expectError("malformed account", "AB 10000", "10000");
  });

  it("refuses an account number out of range", async () => {
    await expectError("account out of range", `AB 09999/${HOST}`, "09999");
  });

  it("refuses a malformed ip", async () => {
    await expectError("malformed ip", "AB 10000/127.0.0.256", "127.0.0.256");
    await expectError("malformed ip", "AB 10000/127.0.0.03", "127.0.0.03");
    await expectError("malformed ip", "AB 10000/127.0.1", "127.0.1");
  });

  it("refuses a malformed number", async () => {
    for (const n of ["-5", "+5", "1.5", "1e3", "007", "1,000"]) {
      await expectError("malformed number", `AD ${account}/${HOST} ${n}`, n);
    }
  });

  it("refuses a number out of range", async () => {
    await expectError("number out of range", `AD 10000/${HOST} 9223372036854775808`, "9223372036854775808");
    await expectError("number out of range", `AW 10000/${HOST} ${"9".repeat(30)}`, /9{20}/);
  });

  it("refuses an account that does not exist", async () => {
    await expectError("no such account", `AB 99999/${HOST}`, "99999");
    await expectError("no such account", `AD 99998/${HOST} 5`, "99998");
    await expectError("no such account", `AR 99997/${HOST}`, "99997");
  });

  it("refuses a withdrawal above the balance", async () => {
    await expectError("insufficient funds", `AW ${account}/${HOST} 1`, account);
    assert.equal(await c.request(`AB ${account}/${HOST}`), "AB 0");
  });

  it("refuses a deposit that would exceed the maximum balance", async () => {
    c = await client(bank);
    const a = await openAccount(c, HOST);
    assert.equal(await c.request(`AD ${a}/${HOST} ${MAX}`), "AD");
    await expectError("balance overflow", `AD ${a}/${HOST} 1`, a);
    assert.equal(await c.request(`AB ${a}/${HOST}`), `AB ${MAX}`);
  });

  it("refuses to close an account that holds money", async () => {
    c = await client(bank);
    const a = await openAccount(c, HOST);
    assert.equal(await c.request(`AD ${a}/${HOST} 1`), "AD");
    await expectError("account not empty", `AR ${a}/${HOST}`, a);
    assert.equal(await c.request(`AB ${a}/${HOST}`), "AB 1");
  });

  it("answers a line over 8 KiB with one ER and goes on with the next line", async () => {
    await expectError("line too long", `AB ${"9".repeat(9000)}`, /8192|8 ?KiB|long/i);
    c = await client(bank);
    // Exactly 8192 bytes is still a line.
    assert.equal(await c.request(`BC${" ".repeat(8190)}`), `BC ${HOST}`);
    c.write(`BC${" ".repeat(8191)}\r\nBC\r\n`);
    assertER((await c.readLine())!);
    assert.equal(await c.readLine(), `BC ${HOST}`);
    await assertSilent(c, 200);
  });

  it("answers a megabyte without a line end with one ER only", async () => {
    c = await client(bank);
    const chunk = "A".repeat(64 * 1024);
    for (let i = 0; i < 16; i++) c.write(chunk);
    c.write("\r\nBC\r\n");
    assertER((await c.readLine())!, /8192|8 ?KiB|long/i);
    assert.equal(await c.readLine(), `BC ${HOST}`);
    await assertSilent(c, 200);
  });

  it("answers bytes that are not UTF-8 with ER", async () => {
    await expectError("invalid utf-8", Uint8Array.of(0x41, 0x42, 0x20, 0xfe, 0xfd, 0x0d, 0x0a), /UTF-8/i);
    await expectError("invalid utf-8", Uint8Array.of(0x42, 0xc3, 0x0d, 0x0a), /UTF-8/i);
  });

  it("answers a deposit to a bank code with no bank there with ER within the timeout", async () => {
    const started = performance.now();
    await expectError("bank unreachable", "AD 10000/127.0.0.9 5", "127.0.0.9");
    assert.ok(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms with timeout 1 s`);
  });

  it("answers ER within the timeout when the other bank accepts but never answers", async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(PORT, "127.0.0.8", () => r()));
    const sockets = new Set<Socket>();
    silent.on("connection", (s) => sockets.add(s));
    try {
      c = await client(bank);
      const started = performance.now();
      assertER(await c.request("AB 10000/127.0.0.8", 5000), "127.0.0.8");
      const ms = performance.now() - started;
      assert.ok(ms < 2500, `took ${Math.round(ms)} ms with timeout 1 s`);
      assert.equal(await c.request("BC"), `BC ${HOST}`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("gave each kind of error its own message", () => {
    const kinds = new Set(messages.values());
    assert.ok(kinds.size >= 14, `only ${kinds.size} kinds were seen: ${[...kinds].join(", ")}`);
  });
});

describe("bank over TCP: exact big numbers", () => {
  after(stopBanks);
  const HOST = "127.0.0.4";
  let bank: BankProcess;
  before(async () => {
    bank = await startBank({ host: HOST });
  });

  it("holds 9223372036854775807, refuses 1 more, and sums two full accounts beyond 2^63-1", async () => {
    const c = await client(bank);
    const a = await openAccount(c, HOST);
    const b = await openAccount(c, HOST);
    assert.equal(await c.request(`AD ${a}/${HOST} ${MAX}`), "AD");
    assert.equal(await c.request(`AB ${a}/${HOST}`), `AB ${MAX}`);
    assertER(await c.request(`AD ${a}/${HOST} 1`), a);
    assert.equal(await c.request(`AB ${a}/${HOST}`), `AB ${MAX}`);
    assert.equal(await c.request(`AD ${b}/${HOST} 9223372036854775806`), "AD");
    assert.equal(await c.request(`AD ${b}/${HOST} 1`), "AD");
    assert.equal(await c.request("BA"), "BA 18446744073709551614");
    assert.equal(await c.request("BN"), "BN 2");
    assert.equal(await c.request(`AW ${b}/${HOST} ${MAX}`), "AW");
    assert.equal(await c.request("BA"), `BA ${MAX}`);
  });
});

describe("bank over TCP: limits", () => {
  after(stopBanks);
  it("disconnects a client idle for client_time_out, but not a busy one", async () => {
    const bank = await startBank({ host: "127.0.0.5", client_time_out: 1 });
    const idle = await client(bank);
    const busy = await client(bank);
    const started = performance.now();
    const closed = idle.closed().then(() => performance.now() - started);
    for (let i = 0; i < 5; i++) {
      assert.equal(await busy.request("BC"), "BC 127.0.0.5");
      await sleep(400);
    }
    const ms = await Promise.race([closed, sleep(3000).then(() => Infinity)]);
    assert.ok(ms >= 900 && ms < 2500, `idle client closed after ${ms} ms, client_time_out is 1 s`);
    // The busy client spent 2 s connected, sending every 0.4 s: still served.
    assert.equal(await busy.request("BC"), "BC 127.0.0.5");
  });

  it("refuses a connection over max_connections with an ER line and closes it", async () => {
    const bank = await startBank({ host: "127.0.0.6", max_connections: 3 });
    const three = [await client(bank), await client(bank), await client(bank)];
    for (const c of three) assert.equal(await c.request("BC"), "BC 127.0.0.6");
    const fourth = await client(bank);
    assertER((await fourth.readLine())!, /connection/i);
    await Promise.race([fourth.closed(), sleep(2000).then(() => assert.fail("the refused connection stays open"))]);
    for (const c of three) assert.equal(await c.request("BC"), "BC 127.0.0.6");
    // When one leaves, a new client gets in; the count does not leak over many comings and goings.
    let current = three;
    for (let round = 0; round < 5; round++) {
      current[0]!.close();
      await sleep(150);
      const next = await client(bank);
      assert.equal(await next.request("BC"), "BC 127.0.0.6", `round ${round}`);
      current = [...current.slice(1), next];
    }
  });

  it("releases a refused connection even when the client never closes its side", async () => {
    const bank = await startBank({ host: "127.0.0.6", port: PORT + 1, max_connections: 1, client_time_out: 1 });
    const holder = await client(bank);
    assert.equal(await holder.request("BC"), "BC 127.0.0.6");
    // A client that ignores the server's FIN (allowHalfOpen): the server must not hold its socket forever.
    const refused = connect({ host: "127.0.0.6", port: PORT + 1, allowHalfOpen: true });
    let received = "";
    let failed = false;
    refused.on("data", (d: Buffer) => (received += d.toString()));
    refused.on("error", () => (failed = true));
    const closed = new Promise<void>((r) => refused.once("close", () => r()));
    try {
      await sleep(300);
      assertER(received.trim(), /connection/i);
      // Long past client_time_out: were the socket still held, these writes would be buffered in silence;
      // once the server has let go, the kernel answers the first with a reset, and the second fails.
      await sleep(2500);
      refused.write("BC\r\n");
      await sleep(200);
      if (!refused.destroyed) refused.write("BC\r\n");
      const outcome = await Promise.race([closed.then(() => "closed"), sleep(1500).then(() => "still open")]);
      assert.ok(failed || outcome === "closed", `the bank still holds a refused connection 3 s after refusing it`);
    } finally {
      refused.destroy();
      // Stopped here, with a short deadline: a bank that still holds a refused socket may not stop on SIGTERM.
      fleet.forget(bank);
      await stopWithin(bank, 1000);
      rmSync(bank.dir, { recursive: true, force: true });
    }
  });

  it("still stops on SIGTERM after refusing a client that had sent a command", async () => {
    const bank = await startBank({ host: "127.0.0.6", port: PORT + 2, max_connections: 1 });
    const holder = await client(bank);
    assert.equal(await holder.request("BC"), "BC 127.0.0.6");
    // Clients write at once, before they could see the refusal; then this one leaves politely (FIN, not RST).
    const refused = await rawConnect("127.0.0.6", PORT + 2);
    refused.socket.write("BC\r\n");
    await sleep(300);
    assertER(refused.received().toString().trim(), /connection/i);
    refused.socket.end();
    await Promise.race([refused.closed, sleep(1000)]);
    refused.socket.destroy();
    holder.close();
    await sleep(200);
    fleet.forget(bank);
    const code = await stopWithin(bank, 3000);
    rmSync(bank.dir, { recursive: true, force: true });
    assert.equal(code, 0, "SIGTERM did not stop the bank within 3 s (it had to be killed)");
  });

  it("refuses a new account when all 90000 numbers are taken", async () => {
    const bank = await startBank({ host: "127.0.0.7" });
    const c = await client(bank);
    c.write("AC\r\n".repeat(90000));
    let last = "";
    for (let i = 0; i < 90000; i++) {
      last = (await c.readLine(10_000))!;
      if (!last.startsWith("AC ")) assert.fail(`AC number ${i + 1} got ${last}`);
    }
    assert.equal(last, "AC 99999/127.0.0.7");
    assertER(await c.request("AC"), /account/i);
    assert.equal(await c.request("BN"), "BN 90000");
  });
});

describe("bank over TCP: Czech", () => {
  after(stopBanks);
  it("answers errors in Czech with language cs", async () => {
    const en = await startBank({ host: "127.0.0.2", port: 65531 });
    const cs = await startBank({ host: "127.0.0.3", port: 65531, language: "cs" });
    const ce = await client(en);
    const cc = await client(cs);
    for (const line of ["XY", "AD 10000/127.0.0.3", "AB 1/127.0.0.3", "AB 99999/127.0.0.3", "AD 10000/127.0.0.3 -1"]) {
      const czech = await cc.request(line);
      const english = await ce.request(line.replace("127.0.0.3", "127.0.0.2"));
      assertER(czech);
      assert.notEqual(czech.replace("127.0.0.3", "127.0.0.2"), english, `${line}: same text as in English`);
      assert.match(czech, /[áčďéěíňóřšťúůýž]/i, `${line}: ${czech} does not look Czech`);
    }
    assert.equal(await cc.request("BC"), "BC 127.0.0.3");
  });
});
