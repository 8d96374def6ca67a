/** BankDirectory: finding a bank's port, caching it, re-probing once, never resending (fake peers on 127.0.10.100–250). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BankDirectory, ForwardError, MAX_FORWARDS_IN_FLIGHT } from "../../src/peers/directory.ts";
import type { BankCode } from "../../src/protocol/values.ts";
import { type FakePeer, type FakeReply, startFakePeer } from "../helpers/fake_peer.ts";

const TIMEOUT = 400;
const MARGIN = 150;

/** A bank that answers BC with `code` and everything else with `other` (default: the bare command code, a success). */
function bank(code: string, other: (line: string) => FakeReply = (line) => line.split(" ")[0]!): (line: string) => FakeReply {
  return (line) => (line === "BC" ? `BC ${code}` : other(line));
}

function count(peer: FakePeer, line: string): number {
  return peer.received.filter((l) => l === `${line}\r\n`).length;
}

/**
 * Asserts that `forward` fails for `ip` within the deadline, saying whether the request was `delivered`
 * (the outcome is then unknown) or not (the bank is unreachable).
 */
async function fails(forward: Promise<string>, ip: string, delivered: boolean): Promise<number> {
  const started = performance.now();
  await assert.rejects(forward, (error: unknown) => {
    assert.ok(error instanceof ForwardError, String(error));
    assert.equal(error.bank, ip);
    assert.equal(error.delivered, delivered, error.message);
    return true;
  });
  const ms = performance.now() - started;
  assert.ok(ms <= TIMEOUT + MARGIN, `took ${ms} ms`);
  return ms;
}

test("finds the bank's port among several listeners and relays the reply as it came", async () => {
  const host = "127.0.10.100";
  const peers = await Promise.all([
    startFakePeer({ host, port: 65526, respond: () => "HELLO what is BC?" }),
    startFakePeer({ host, port: 65529, respond: () => null }),
    startFakePeer({ host, port: 65533, respond: bank(host, () => ({ writes: ["  AB 4200 \r\r\n\n"] })), crlfOnly: true }),
  ]);
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    const started = performance.now();
    assert.equal(await directory.forward(host as BankCode, "AB 10001/127.0.10.100"), "AB 4200");
    // The silent port must not hold the forward up: the first port that answers BC wins.
    assert.ok(performance.now() - started < TIMEOUT / 2);
    assert.equal(count(peers[2], "AB 10001/127.0.10.100"), 1);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
});

test("caches the port: a second forward does not probe again", async () => {
  const host = "127.0.10.101";
  const peer = await startFakePeer({ host, port: 65531, respond: bank(host) });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    assert.equal(await directory.forward(host as BankCode, "AD 10001/127.0.10.101 5"), "AD");
    assert.equal(await directory.forward(host as BankCode, "AW 10001/127.0.10.101 5"), "AW");
    assert.deepEqual(peer.received, ["BC\r\n", "AD 10001/127.0.10.101 5\r\n", "AW 10001/127.0.10.101 5\r\n"]);
  } finally {
    await peer.close();
  }
});

test("concurrent forwards to an unknown bank share one probe", async () => {
  const host = "127.0.10.102";
  const peer = await startFakePeer({ host, port: 65528, respond: bank(host, () => ({ writes: ["AB 1\r\n"], delayMs: 20 })) });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    const replies = await Promise.all(Array.from({ length: 5 }, () => directory.forward(host as BankCode, "AB 10001/127.0.10.102")));
    assert.deepEqual(replies, ["AB 1", "AB 1", "AB 1", "AB 1", "AB 1"]);
    assert.equal(count(peer, "BC"), 1);
    assert.equal(count(peer, "AB 10001/127.0.10.102"), 5);
  } finally {
    await peer.close();
  }
});

test("a bank that moved port is found again with one re-probe", async () => {
  const host = "127.0.10.103";
  const directory = new BankDirectory({ timeoutMs: TIMEOUT });
  const before = await startFakePeer({ host, port: 65526, respond: bank(host) });
  try {
    assert.equal(await directory.forward(host as BankCode, "AD 10001/127.0.10.103 1"), "AD");
  } finally {
    await before.close();
  }
  const after = await startFakePeer({ host, port: 65534, respond: bank(host) });
  try {
    assert.equal(await directory.forward(host as BankCode, "AD 10001/127.0.10.103 2"), "AD");
    assert.deepEqual(after.received, ["BC\r\n", "AD 10001/127.0.10.103 2\r\n"]);
    assert.deepEqual(before.received, ["BC\r\n", "AD 10001/127.0.10.103 1\r\n"]);
  } finally {
    await after.close();
  }
  // Gone altogether: the cached port refuses, the single re-probe finds nothing.
  await fails(directory.forward(host as BankCode, "AD 10001/127.0.10.103 3"), host, false);
});

test("never resends after a timeout: the deposit arrives exactly once", async () => {
  const host = "127.0.10.104";
  const peer = await startFakePeer({ host, port: 65530, respond: bank(host, () => null) });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    const ms = await fails(directory.forward(host as BankCode, "AD 10001/127.0.10.104 100"), host, true);
    assert.ok(ms >= TIMEOUT - 10, `gave up early, after ${ms} ms`);
    assert.equal(count(peer, "AD 10001/127.0.10.104 100"), 1);
  } finally {
    await peer.close();
  }
});

test("never resends after the bank closed without a reply", async () => {
  const host = "127.0.10.105";
  const peer = await startFakePeer({ host, port: 65532, respond: bank(host, () => ({ writes: [], close: true })) });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    await fails(directory.forward(host as BankCode, "AW 10001/127.0.10.105 100"), host, true);
    assert.equal(count(peer, "AW 10001/127.0.10.105 100"), 1);
  } finally {
    await peer.close();
  }
});

test("a bank whose BC names another address is keyed by the dialled one; its errors are relayed unchanged", async () => {
  const host = "127.0.10.106";
  const peer = await startFakePeer({ host, port: 65535, respond: bank("10.9.8.7", () => "Špatný příkaz") });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    assert.equal(await directory.forward(host as BankCode, "AB 10001/127.0.10.106"), "Špatný příkaz");
    assert.equal(await directory.forward(host as BankCode, "AB 10002/127.0.10.106"), "Špatný příkaz");
    assert.equal(count(peer, "BC"), 1);
  } finally {
    await peer.close();
  }
});

test("a bank that is slow to answer BC leaves only the rest of the deadline for the command", async () => {
  const host = "127.0.10.107";
  const peer = await startFakePeer({
    host,
    port: 65527,
    respond: (line) => (line === "BC" ? { writes: [`BC ${host}\r\n`], delayMs: 250 } : { writes: ["AD\r\n"], delayMs: 250 }),
  });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT });
    await fails(directory.forward(host as BankCode, "AD 10001/127.0.10.107 1"), host, true);
    assert.equal(count(peer, "AD 10001/127.0.10.107 1"), 1);
  } finally {
    await peer.close();
  }
});

test("an address where no bank listens is bank_unreachable within the deadline", async () => {
  const directory = new BankDirectory({ timeoutMs: TIMEOUT });
  await fails(directory.forward("127.0.10.250" as BankCode, "AB 10001/127.0.10.250"), "127.0.10.250", false);
});

test("the ports option restricts the probe", async () => {
  const host = "127.0.10.108";
  const peer = await startFakePeer({ host, port: 65525, respond: bank(host) });
  try {
    const elsewhere = new BankDirectory({ timeoutMs: TIMEOUT, ports: [65526, 65527] });
    await fails(elsewhere.forward(host as BankCode, "AB 10001/127.0.10.108"), host, false);
    assert.equal(peer.connections(), 0);
    const here = new BankDirectory({ timeoutMs: TIMEOUT, ports: [65525] });
    assert.equal(await here.forward(host as BankCode, "AB 10001/127.0.10.108"), "AB");
  } finally {
    await peer.close();
  }
});

test(`beyond ${MAX_FORWARDS_IN_FLIGHT} forwards in flight the next fails at once`, async () => {
  const host = "127.0.10.109";
  const peer = await startFakePeer({ host, port: 65529, respond: bank(host, () => null) });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT, ports: [65529] });
    const stuck = Array.from({ length: MAX_FORWARDS_IN_FLIGHT }, (_, i) =>
      directory.forward(host as BankCode, `AB ${10000 + i}/127.0.10.109`).catch((error: unknown) => error),
    );
    const started = performance.now();
    await fails(directory.forward(host as BankCode, "AB 99999/127.0.10.109"), host, false);
    assert.ok(performance.now() - started < 50);
    for (const outcome of await Promise.all(stuck)) assert.ok(outcome instanceof ForwardError && outcome.delivered);
    // Once they are done, forwarding works again (the bank still never answers, but it is tried).
    await fails(directory.forward(host as BankCode, "AB 99999/127.0.10.109"), host, true);
    assert.equal(count(peer, "AB 99999/127.0.10.109"), 1);
  } finally {
    await peer.close();
  }
});

test("never takes its own BC for another bank's, when listening on every address", async () => {
  // A bank on 0.0.0.0 answers on every loopback address: probing 127.0.10.110 reaches it on its own port.
  const host = "127.0.10.110";
  const ownPort = 65533;
  const self = await startFakePeer({ host, port: ownPort, respond: () => "BC 127.0.10.1" });
  try {
    const directory = new BankDirectory({ timeoutMs: TIMEOUT, self: { code: "127.0.10.1", port: ownPort } });
    await fails(directory.forward(host as BankCode, "AB 10001/127.0.10.110"), host, false);
    assert.equal(count(self, "AB 10001/127.0.10.110"), 0);
  } finally {
    await self.close();
  }
});
