/**
 * Bad peers: fake banks on 127.0.13.x that stay silent, answer garbage, close mid-line, drip, flood or
 * answer after the timeout. Proves our client of bank A (forwarding `AB`/`AD …/<peer ip>`) gets an ER (or
 * the peer's non-ER line relayed verbatim) within timeout + margin, nothing is resent, and A keeps serving.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type FakePeer, type FakeReply, startFakePeer } from "../helpers/fake_peer.ts";
import { type BankClient, type BankProcess, cleanUp, pipeline, sleep, startBank } from "./fault_helpers.ts";

const HOST = "127.0.12.6";
const PEER_PORT = 65531;
const TIMEOUT_MS = 1000;
/** Timers, a busy machine, and the probe of 11 ports before the request itself. */
const MARGIN_MS = 700;

let bank: BankProcess;
let other: BankClient;
let account: number;
const peers: FakePeer[] = [];

before(async () => {
  bank = await startBank({ host: HOST, port: 65525, timeout: TIMEOUT_MS / 1000 });
  other = await bank.client();
  const [opened] = await pipeline(other, ["AC"]);
  account = Number(/^AC ([0-9]{5})\//.exec(opened!)?.[1]);
  assert.deepEqual(await pipeline(other, [`AD ${account}/${HOST} 500`]), ["AD"]);
});
after(async () => {
  other?.close();
  for (const peer of peers) await peer.close();
  await cleanUp();
});

/** A fake bank at 127.0.13.<n> that answers BC (unless told otherwise) and everything else with `respond`. */
async function peer(n: number, respond: (line: string) => FakeReply, answerBC: FakeReply | "normal" = "normal"): Promise<{ ip: string; fake: FakePeer }> {
  const ip = `127.0.13.${n}`;
  const fake = await startFakePeer({
    host: ip,
    port: PEER_PORT,
    respond: (line) => (line.trim().toUpperCase() === "BC" ? (answerBC === "normal" ? `BC ${ip}` : answerBC) : respond(line)),
  });
  peers.push(fake);
  return { ip, fake };
}

/**
 * Sends `line` from a fresh client of A and times the reply; meanwhile another client of A must be
 * answered at once (a forward must not block the node).
 */
async function forward(line: string): Promise<{ reply: string; ms: number }> {
  const client = await bank.client();
  try {
    const started = performance.now();
    const pending = pipeline(client, [line], TIMEOUT_MS + 5000);
    await sleep(100);
    const t = performance.now();
    assert.deepEqual(await pipeline(other, ["BC", `AB ${account}/${HOST}`]), [`BC ${HOST}`, "AB 500"]);
    assert.ok(performance.now() - t < 500, `A was slow to answer another client while forwarding ${line}`);
    const [reply] = await pending;
    return { reply: reply!, ms: performance.now() - started };
  } finally {
    client.close();
  }
}

function assertUnreachable(result: { reply: string; ms: number }, ip: string, what: string): void {
  assert.match(result.reply, new RegExp(`^ER .*${ip.replaceAll(".", "\\.")}`), `${what}: reply`);
  assert.ok(result.ms <= TIMEOUT_MS + MARGIN_MS, `${what}: the ER took ${result.ms.toFixed(0)} ms (timeout ${TIMEOUT_MS} ms)`);
}

describe("bad peers", { timeout: 60_000 }, () => {
  it("a peer that accepts and never answers (not even BC)", async () => {
    const { ip } = await peer(1, () => null, null);
    assertUnreachable(await forward(`AB 10001/${ip}`), ip, "silent peer");
  });

  it("a peer that answers BC but never the request", async () => {
    const { ip, fake } = await peer(2, () => null);
    assertUnreachable(await forward(`AB 10001/${ip}`), ip, "silent after BC");
    // A deposit that may have been delivered is never sent twice.
    assertUnreachable(await forward(`AD 10001/${ip} 5`), ip, "silent after BC, AD");
    await sleep(TIMEOUT_MS);
    assert.equal(fake.received.filter((l) => l.startsWith("AD")).length, 1, `AD sent ${fake.received.filter((l) => l.startsWith("AD")).length} times`);
  });

  it("a peer that answers garbage to everything (so it is no bank)", async () => {
    const { ip } = await peer(3, () => "Hello? Who is there?", "Hello? Who is there?");
    assertUnreachable(await forward(`AB 10001/${ip}`), ip, "garbage peer");
  });

  it("a bank that answers the request with garbage: relayed verbatim (control bytes as ?), in time", async () => {
    const garbage = ["Špatný příkaz", "garbage \x01\x7f ☃ 12", "AB -5", "AB 99999999999999999999999999", "OK"];
    const { ip } = await peer(4, () => garbage[0]!);
    const result = await forward(`AB 10001/${ip}`);
    assert.equal(result.reply, garbage[0]);
    assert.ok(result.ms <= TIMEOUT_MS + MARGIN_MS);
    const seen: string[] = [];
    for (const [i, text] of garbage.slice(1).entries()) {
      const { ip: ip2 } = await peer(20 + i, () => text);
      const r = await forward(`AB 10001/${ip2}`);
      seen.push(`${JSON.stringify(text)} -> ${JSON.stringify(r.reply)}`);
      // Control bytes would break our client's line (a lone CR ends it): they come back as "?".
      const visible = text.replace(/[\x00-\x1f\x7f]/g, "?");
      assert.ok(r.reply === visible || r.reply.startsWith("ER "), `garbage ${JSON.stringify(text)} came back as ${JSON.stringify(r.reply)}`);
      assert.ok(r.ms <= TIMEOUT_MS + MARGIN_MS, `garbage ${JSON.stringify(text)}: ${r.ms.toFixed(0)} ms`);
    }
    console.log(`bad_peers: garbage relayed: ${seen.join("; ")}`);
  });

  it("a bank that closes mid-line, or without a byte", async () => {
    const { ip } = await peer(6, () => ({ writes: ["AB 12"], close: true }));
    const cut = await forward(`AB 10001/${ip}`);
    assert.ok(cut.reply === "AB 12" || cut.reply.startsWith("ER "), `closed mid-line: ${JSON.stringify(cut.reply)}`);
    assert.ok(cut.ms <= TIMEOUT_MS + MARGIN_MS);
    const { ip: ip2 } = await peer(7, () => ({ writes: [], close: true }));
    assertUnreachable(await forward(`AB 10001/${ip2}`), ip2, "closed without a byte");
  });

  it("a bank that answers after the timeout: ER in time, the late answer goes nowhere", async () => {
    const { ip, fake } = await peer(8, (line) => ({ writes: [line.startsWith("AD") ? "AD\r\n" : "AB 999\r\n"], delayMs: TIMEOUT_MS + 500 }));
    const client = await bank.client();
    try {
      const started = performance.now();
      const [reply] = await pipeline(client, [`AB 10001/${ip}`], TIMEOUT_MS + 5000);
      assertUnreachable({ reply: reply!, ms: performance.now() - started }, ip, "late peer");
      await sleep(800);
      // The same connection answers its next command with its own reply, not the late one.
      assert.deepEqual(await pipeline(client, ["BC", `AB ${account}/${HOST}`]), [`BC ${HOST}`, "AB 500"]);
      assertUnreachable(await forward(`AD 10001/${ip} 5`), ip, "late peer, AD");
      await sleep(TIMEOUT_MS);
      assert.equal(fake.received.filter((l) => l.startsWith("AD")).length, 1, "a deposit was resent");
    } finally {
      client.close();
    }
    // A bank too slow to answer even the BC probe.
    const { ip: slow } = await peer(9, () => "AB 1", { writes: [`BC 127.0.13.9\r\n`], delayMs: TIMEOUT_MS + 500 });
    assertUnreachable(await forward(`AB 10001/${slow}`), slow, "slow BC");
  });

  it("a bank that drips its reply a byte at a time past the timeout, or floods without a line end", async () => {
    const { ip } = await peer(10, () => ({ writes: [..."AB 5\r\n"], gapMs: 300 }));
    assertUnreachable(await forward(`AB 10001/${ip}`), ip, "dripping peer");
    const { ip: flood } = await peer(11, () => ({ writes: [Buffer.alloc(1 << 20, "x")] }));
    assertUnreachable(await forward(`AB 10001/${flood}`), flood, "1 MB without a line end");
  });

  it("odd but valid line ends around a reply are tolerated", async () => {
    const { ip } = await peer(12, () => ({ writes: ["\r\n\r\n  AB 5\r\r\n\n"] }));
    const r = await forward(`AB 10001/${ip}`);
    assert.equal(r.reply, "AB 5");
  });

  it("300 forwards at once to a silent peer: all ER in time, A keeps serving", async () => {
    const ip = "127.0.13.1";
    const client = await bank.client();
    try {
      const started = performance.now();
      client.write(Array.from({ length: 300 }, () => `AB 10001/${ip}\r\n`).join(""));
      await sleep(200);
      const t = performance.now();
      assert.deepEqual(await pipeline(other, ["BN", `AB ${account}/${HOST}`]), ["BN 1", "AB 500"]);
      assert.ok(performance.now() - t < 500, "A was slow to answer another client during 300 forwards");
      for (let i = 0; i < 300; i++) {
        const reply = await client.readLine(TIMEOUT_MS + 5000);
        assert.match(reply ?? "<closed>", /^ER /, `forward ${i}`);
      }
      const ms = performance.now() - started;
      assert.ok(ms <= TIMEOUT_MS + MARGIN_MS, `300 forwards took ${ms.toFixed(0)} ms`);
    } finally {
      client.close();
    }
    // Still serving, with the ledger untouched.
    assert.deepEqual(await pipeline(other, [`AB ${account}/${HOST}`, "BA", "BN", "BC"]), ["AB 500", "BA 500", "BN 1", `BC ${HOST}`]);
  });
});
