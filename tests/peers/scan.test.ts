/** subnetHosts() and scanNetwork() (fake banks on 127.0.9.0/24, which no other test file uses). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { scanNetwork, subnetHosts } from "../../src/peers/scan.ts";
import { bankReplies, startFakePeer } from "../helpers/fake_peer.ts";

const SUBNET = "127.0.9.0/24";
const HOSTS = 254;
const PORTS = 11;

test("subnetHosts lists the host addresses of a CIDR", () => {
  const c = subnetHosts("127.0.9.0/24");
  assert.equal(c.length, 254);
  assert.equal(c[0], "127.0.9.1");
  assert.equal(c.at(-1), "127.0.9.254");
  // The address part need not be the network address; addresses above 128.0.0.0 stay unsigned.
  assert.deepEqual(subnetHosts("200.1.2.77/30"), ["200.1.2.77", "200.1.2.78"]);
  assert.deepEqual(subnetHosts("255.255.255.254/31"), ["255.255.255.254", "255.255.255.255"]);
  assert.deepEqual(subnetHosts("10.0.0.7/32"), ["10.0.0.7"]);
  const b = subnetHosts("10.1.2.3/16");
  assert.equal(b.length, 65534);
  assert.equal(b[0], "10.1.0.1");
  assert.equal(b.at(-1), "10.1.255.254");
  for (const bad of ["10.0.0.0/15", "10.0.0.0/33", "10.0.0.0", "10.0.0/24", "10.0.0.256/24", "10.0.0.01/24", "10.0.0.0/24 ", "/24"]) {
    assert.throws(() => subnetHosts(bad), RangeError, bad);
  }
});

test("finds exactly the banks of the subnet with their BA and BN, reports odd ones, includes itself", async () => {
  const huge = 123456789012345678901234567890n;
  const peers = await Promise.all([
    startFakePeer({ host: "127.0.9.11", port: 65525, respond: bankReplies({ code: "127.0.9.11", amount: 500n, clients: 2n }) }),
    // A second bank process on the same address: the lowest port keeps the address, this one is a problem.
    startFakePeer({ host: "127.0.9.11", port: 65533, respond: bankReplies({ code: "127.0.9.11", amount: 7n, clients: 7n }) }),
    startFakePeer({ host: "127.0.9.22", port: 65530, respond: bankReplies({ code: "127.0.9.22", amount: huge, clients: 9n, lineEnd: "\n" }) }),
    // BC names another address; keyed by the dialled one. Ignores LF-only lines, ends replies oddly.
    startFakePeer({
      host: "127.0.9.33",
      port: 65535,
      respond: bankReplies({ code: "10.0.0.33", amount: 100n, clients: 1n, lineEnd: "\r\r\n\n" }),
      crlfOnly: true,
    }),
    // Odd: answers BC but BA with an error that does not start with ER.
    startFakePeer({
      host: "127.0.9.44",
      port: 65528,
      respond: (line) => (line === "BC" ? "BC 127.0.9.44" : line === "BN" ? "BN 3" : "Špatný příkaz"),
    }),
    // Odd: answers BC but never BA or BN.
    startFakePeer({ host: "127.0.9.55", port: 65526, respond: (line) => (line === "BC" ? "BC 127.0.9.55" : null) }),
    // Not a bank: answers, but not BC.
    startFakePeer({ host: "127.0.9.66", port: 65527, respond: () => "HTTP/1.0 400 Bad Request" }),
    // Listens where our own bank is: it must not be asked anything.
    startFakePeer({ host: "127.0.9.1", port: 65525, respond: () => "BC 127.0.9.1" }),
    // Another bank process on our own address: ours keeps the address.
    startFakePeer({ host: "127.0.9.1", port: 65531, respond: bankReplies({ code: "127.0.9.1", amount: 1n, clients: 1n }) }),
  ]);
  const self = peers.at(-2)!;
  try {
    const progress: [number, number, number][] = [];
    const result = await scanNetwork({
      subnet: SUBNET,
      concurrency: 64,
      probeTimeoutMs: 300,
      // Generous: a loaded test machine must not turn a slow answer into a missing bank.
      timeoutMs: 1500,
      self: { code: "127.0.9.1", port: 65525, amount: 1000n, clients: 4n },
      onProgress: (...args) => progress.push(args),
    });
    assert.deepEqual(result.banks, [
      { code: "127.0.9.22", port: 65530, reportedCode: "127.0.9.22", amount: huge, clients: 9n },
      { code: "127.0.9.1", port: 65525, reportedCode: "127.0.9.1", amount: 1000n, clients: 4n },
      { code: "127.0.9.11", port: 65525, reportedCode: "127.0.9.11", amount: 500n, clients: 2n },
      { code: "127.0.9.33", port: 65535, reportedCode: "10.0.0.33", amount: 100n, clients: 1n },
    ]);
    assert.deepEqual(
      result.problems.map(({ code, port }) => `${code}:${port}`),
      ["127.0.9.1:65531", "127.0.9.11:65533", "127.0.9.44:65528", "127.0.9.55:65526", "127.0.9.66:65527"],
    );
    assert.match(result.problems[4]!.reason, /BC answered "HTTP\/1\.0 400 Bad Request"/);
    assert.match(result.problems[0]!.reason, /already answers on port 65525/);
    assert.match(result.problems[2]!.reason, /BA answered "Špatný příkaz"/);
    assert.match(result.problems[3]!.reason, /BA: .*1500 ms.*; BN: /);
    assert.equal(result.probes, HOSTS * PORTS - 1);
    assert.equal(self.connections(), 0);
    assert.deepEqual(progress.at(-1), [HOSTS * PORTS - 1, HOSTS * PORTS - 1, 6]);
    for (const [done, total] of progress) assert.ok(done <= total);
    console.log(`scan with 9 fake peers of ${SUBNET} x ${PORTS} ports: ${result.ms} ms`);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
});

test(`a /24 x ${PORTS} ports on loopback: timing`, async () => {
  const result = await scanNetwork({ subnet: SUBNET, concurrency: 64, probeTimeoutMs: 300, timeoutMs: 300 });
  assert.deepEqual(result.banks, []);
  assert.equal(result.probes, HOSTS * PORTS);
  console.log(`empty scan of ${SUBNET} x ${PORTS} ports (${result.probes} probes, concurrency 64): ${result.ms} ms`);
});

test("a /32 with one port asks the bank directly", async () => {
  const peer = await startFakePeer({ host: "127.0.9.77", port: 65529, respond: bankReplies({ code: "127.0.9.77", amount: 0n, clients: 0n }) });
  try {
    const result = await scanNetwork({ subnet: "127.0.9.77/32", ports: [65529], concurrency: 4, probeTimeoutMs: 300, timeoutMs: 300 });
    assert.deepEqual(result.banks, [{ code: "127.0.9.77", port: 65529, reportedCode: "127.0.9.77", amount: 0n, clients: 0n }]);
    assert.deepEqual(result.problems, []);
    assert.equal(result.probes, 1);
    // BA and BN go out in parallel on their own connections, so only the set is fixed, not the order.
    assert.deepEqual(peer.received.slice().sort(), ["BA\r\n", "BC\r\n", "BN\r\n"]);
  } finally {
    await peer.close();
  }
});
