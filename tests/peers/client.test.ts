/** exchange() and expectReply() against every kind of other bank seen in the wild (fake peers on 127.0.10.1–49). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { exchange, expectReply, MAX_REPLY_BYTES, PeerError } from "../../src/peers/client.ts";
import { parsePeerNumber } from "../../src/protocol/values.ts";
import { type FakeReply, startFakePeer } from "../helpers/fake_peer.ts";

const TIMEOUT = 300;
/** Slack for timers and a busy test machine; the point is "about the deadline", not "seconds later". */
const MARGIN = 150;

/** Runs one exchange against a fresh fake peer that answers every line with `respond`. */
async function against(host: string, respond: (line: string) => FakeReply, line = "BC", crlfOnly = false) {
  const peer = await startFakePeer({ host, port: 65530, respond, crlfOnly });
  const started = performance.now();
  try {
    const reply = await exchange(host, 65530, line, TIMEOUT);
    return { reply, ms: performance.now() - started, peer };
  } finally {
    await peer.close();
  }
}

/** Expects the exchange to fail with `kind` no later than the deadline (plus margin). */
async function failsWith(host: string, respond: (line: string) => FakeReply, kind: PeerError["kind"]) {
  const peer = await startFakePeer({ host, port: 65530, respond });
  const started = performance.now();
  try {
    await assert.rejects(exchange(host, 65530, "BC", TIMEOUT), (error: unknown) => {
      assert.ok(error instanceof PeerError, String(error));
      assert.equal(error.kind, kind, error.message);
      return true;
    });
    const ms = performance.now() - started;
    assert.ok(ms <= TIMEOUT + MARGIN, `took ${ms} ms`);
    return { ms, peer };
  } finally {
    await peer.close();
  }
}

for (const [i, ending] of ["\n", "\r\n", "\r\r\n", "\r\r\n\n", "\n\r"].entries()) {
  test(`reply ending ${JSON.stringify(ending)} is read as one line`, async () => {
    const { reply } = await against(`127.0.10.${1 + i}`, () => ({ writes: [`BC 127.0.10.${1 + i}${ending}`] }));
    assert.equal(reply, `BC 127.0.10.${1 + i}`);
  });
}

test("the request goes out as one write of the line and CR LF", async () => {
  const { reply, peer } = await against("127.0.10.6", () => "AD", "AD 10001/127.0.10.6 500", true);
  assert.equal(reply, "AD");
  assert.deepEqual(peer.received, ["AD 10001/127.0.10.6 500\r\n"]);
  assert.deepEqual(peer.reads, ["AD 10001/127.0.10.6 500\r\n"]);
});

test("a bank that ignores LF-only lines still answers ours", async () => {
  const { reply } = await against("127.0.10.7", () => "BC 127.0.10.7", "BC", true);
  assert.equal(reply, "BC 127.0.10.7");
});

test("blank lines and stray CRs before the reply are skipped", async () => {
  const { reply } = await against("127.0.10.8", () => ({ writes: ["\r\n", "\r", "  \n", "\r\n AB 100 \r\n"], gapMs: 5 }));
  assert.equal(reply, "AB 100");
});

test("an error without ER comes back unchanged", async () => {
  const { reply } = await against("127.0.10.9", () => "Špatný příkaz", "AB 10001/127.0.10.9");
  assert.equal(reply, "Špatný příkaz");
  assert.equal(expectReply(reply, "AB"), undefined);
});

test("numbers past 2^63-1 are kept exactly", async () => {
  const { reply } = await against("127.0.10.10", () => "BA 123456789012345678901234567890", "BA");
  const fields = expectReply(reply, "BA");
  assert.deepEqual(fields, ["123456789012345678901234567890"]);
  assert.equal(parsePeerNumber(fields[0]!), 123456789012345678901234567890n);
});

test("a BC naming another address is returned as it came", async () => {
  const { reply } = await against("127.0.10.11", () => "BC 10.20.30.40");
  assert.deepEqual(expectReply(reply, "BC"), ["10.20.30.40"]);
});

test("a reply split across several writes is joined", async () => {
  const { reply } = await against("127.0.10.12", () => ({ writes: ["B", "C 12", "7.0.10.12\r", "\n"], gapMs: 15 }));
  assert.equal(reply, "BC 127.0.10.12");
});

test("a multi-byte character split across writes decodes whole", async () => {
  const bytes = new TextEncoder().encode("ER Špatný příkaz\r\n");
  const { reply } = await against("127.0.10.13", () => ({ writes: [bytes.subarray(0, 4), bytes.subarray(4)], gapMs: 15 }));
  assert.equal(reply, "ER Špatný příkaz");
});

test("trailing extra bytes after the reply are ignored", async () => {
  const { reply } = await against("127.0.10.14", () => ({ writes: ["AB 5\r\nAB 6\r\ngarbage without end"] }));
  assert.equal(reply, "AB 5");
});

test("invalid UTF-8 becomes replacement characters", async () => {
  const { reply } = await against("127.0.10.15", () => ({ writes: [new Uint8Array([0x45, 0x52, 0x20, 0xff, 0xfe, 0x0d, 0x0a])] }));
  assert.equal(reply, "ER \ufffd\ufffd");
});

test("an answer after a delay within the deadline arrives", async () => {
  const { reply, ms } = await against("127.0.10.16", () => ({ writes: ["BC 127.0.10.16\r\n"], delayMs: 100 }));
  assert.equal(reply, "BC 127.0.10.16");
  assert.ok(ms >= 90 && ms <= TIMEOUT, `took ${ms} ms`);
});

test("an answer after the deadline is a timeout", async () => {
  const { ms } = await failsWith("127.0.10.17", () => ({ writes: ["BC 127.0.10.17\r\n"], delayMs: TIMEOUT + 200 }), "timeout");
  assert.ok(ms >= TIMEOUT - 10, `gave up early, after ${ms} ms`);
});

test("a bank that accepts and never answers is a timeout", async () => {
  const { peer } = await failsWith("127.0.10.18", () => null, "timeout");
  assert.deepEqual(peer.received, ["BC\r\n"]);
});

test("a bank that closes mid-line: the bytes it sent are the reply", async () => {
  const { reply } = await against("127.0.10.19", () => ({ writes: ["BC 127.0.10.19"], close: true }));
  assert.equal(reply, "BC 127.0.10.19");
});

test("a bank that closes without a reply is 'closed'", async () => {
  await failsWith("127.0.10.20", () => ({ writes: ["\r\n \r\n"], close: true }), "closed");
});

test("garbage without a line end is cut off at the cap as 'too_long'", async () => {
  const chunk = "x".repeat(16 * 1024);
  const writes = Array.from({ length: (2 * MAX_REPLY_BYTES) / chunk.length }, () => chunk);
  await failsWith("127.0.10.21", () => ({ writes }), "too_long");
});

test("a reply line longer than the cap in a single write is 'too_long'", async () => {
  await failsWith("127.0.10.22", () => ({ writes: [`BC ${"x".repeat(MAX_REPLY_BYTES)}\r\n`] }), "too_long");
});

test("a port where nothing listens is 'refused', at once", async () => {
  const started = performance.now();
  await assert.rejects(exchange("127.0.10.23", 65530, "BC", TIMEOUT), (error: unknown) => {
    assert.ok(error instanceof PeerError);
    assert.equal(error.kind, "refused");
    return true;
  });
  assert.ok(performance.now() - started < TIMEOUT / 2);
});

test("expectReply matches the exact upper-case code and splits on spaces and tabs", () => {
  assert.deepEqual(expectReply("AB 100", "AB"), ["100"]);
  assert.deepEqual(expectReply("AB\t 100", "AB"), ["100"]);
  assert.deepEqual(expectReply("AD", "AD"), []);
  assert.deepEqual(expectReply("AC 10001/10.0.0.1", "AC"), ["10001/10.0.0.1"]);
  assert.equal(expectReply("ab 100", "AB"), undefined);
  assert.equal(expectReply("ABC 100", "AB"), undefined);
  assert.equal(expectReply("ER No such account.", "AB"), undefined);
  assert.equal(expectReply("", "AB"), undefined);
});

test("a spent deadline fails at once without connecting", async () => {
  const peer = await startFakePeer({ host: "127.0.10.24", port: 65530, respond: () => "AD" });
  try {
    await assert.rejects(exchange("127.0.10.24", 65530, "AD 10001/127.0.10.24 1", 0), { name: "PeerError", kind: "timeout" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(peer.connections(), 0);
  } finally {
    await peer.close();
  }
});

test("a reply that reads 'too_long' is just a reply", async () => {
  const { reply } = await against("127.0.10.25", () => "too_long");
  assert.equal(reply, "too_long");
});
