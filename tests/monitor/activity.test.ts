/** What the monitor records, without sockets: feed, rate, peers, network; and which requests it lets in. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Activity, FEED_SIZE, MAX_PEERS, RATE_SECONDS } from "../../src/monitor/activity.ts";
import { ownHosts, refusal } from "../../src/monitor/request_guard.ts";
import type { BankCode } from "../../src/protocol/values.ts";

const OWN = "10.0.0.1";
const command = (request: string, reply: string) => ({ peer: "10.0.0.7:40000", request, reply, ms: 0.5 });

test("the feed keeps the latest commands in order, marks forwards and errors", () => {
  const activity = new Activity(OWN);
  activity.command(command(`AD 10000/${OWN} 5`, "AD"));
  activity.command(command("ad 10000/10.0.0.2 5", "AD"));
  activity.command(command("AB 10000/10.0.0.3", "ER The bank at 10.0.0.3 cannot be reached or did not answer in time."));
  activity.command(command("BA", "BA 5"));
  const feed = activity.feedSince(0);
  assert.deepEqual(feed.map((e) => [e.seq, e.forwardTo, e.error]), [
    [0, undefined, false],
    [1, "10.0.0.2", false],
    [2, "10.0.0.3", true],
    [3, undefined, false],
  ]);
  assert.deepEqual(activity.feedSince(2).map((e) => e.request), ["AB 10000/10.0.0.3", "BA"]);
  assert.deepEqual(activity.feedSince(0, 1).map((e) => e.request), ["BA"]);
});

test("the feed forgets all but the last FEED_SIZE commands", () => {
  const activity = new Activity(OWN);
  for (let i = 0; i < FEED_SIZE + 50; i++) activity.command(command(`AB ${10000 + i}/${OWN}`, "AB 0"));
  const feed = activity.feedSince(0);
  assert.equal(feed.length, FEED_SIZE);
  assert.equal(feed[0]!.request, `AB ${10050}/${OWN}`);
  assert.equal(feed.at(-1)!.seq, FEED_SIZE + 49);
  assert.equal(activity.commands, FEED_SIZE + 50);
});

test("commands per second: one count per closed second, the last ten minutes kept", () => {
  const activity = new Activity(OWN);
  for (let second = 0; second < RATE_SECONDS + 5; second++) {
    for (let i = 0; i < second % 7; i++) activity.command(command("BC", `BC ${OWN}`));
    activity.closeSecond();
  }
  const rate = activity.rateSince(0);
  assert.equal(rate.length, RATE_SECONDS);
  assert.equal(rate[0], 5 % 7);
  assert.equal(rate.at(-1), (RATE_SECONDS + 4) % 7);
  assert.deepEqual(activity.rateSince(activity.seconds - 2), [(RATE_SECONDS + 3) % 7, (RATE_SECONDS + 4) % 7]);
});

test("peers: successes, failures with the address tried, bounded in number", () => {
  const activity = new Activity(OWN);
  const bank = "10.0.0.2" as BankCode;
  activity.contact({ bank, port: 65530, ok: true, ms: 3 });
  activity.contact({ bank, port: 65530, ok: false, ms: 1000, reason: "10.0.0.2:65530 did not answer within 1000 ms" });
  activity.contact({ bank: "10.0.0.9" as BankCode, port: undefined, ok: false, ms: 300, reason: "no port answered BC" });
  const [missing, known] = activity.peers().sort((a, b) => a.code.localeCompare(b.code)).reverse();
  assert.deepEqual([known!.port, known!.ok, known!.failures, known!.latencyMs], [65530, 1, 1, 3]);
  assert.equal(known!.lastError, "10.0.0.2:65530: 10.0.0.2:65530 did not answer within 1000 ms");
  assert.equal(missing!.lastError, "10.0.0.9:65525–65535: no port answered BC");
  for (let i = 0; i < MAX_PEERS + 10; i++) activity.contact({ bank: `10.1.${i >> 8}.${i & 255}` as BankCode, port: 65525, ok: true, ms: 1 });
  assert.equal(activity.peers().length, MAX_PEERS);
});

test("a scan becomes the network, amounts as exact strings, and its banks become peers", () => {
  const activity = new Activity(OWN);
  const version = activity.version;
  activity.scanned({
    subnet: "10.0.0.0/24",
    ports: [65525, 65526],
    banks: [
      { code: "10.0.0.2", reportedCode: "10.0.0.2", port: 65526, amount: 2n ** 64n, clients: 3n },
      { code: OWN, reportedCode: OWN, port: 65525, amount: 5n, clients: 1n },
    ],
    problems: [],
    probes: 10,
    ms: 12.4,
  });
  assert.ok(activity.version > version);
  assert.deepEqual(activity.network()?.banks[0], { code: "10.0.0.2", port: 65526, amount: "18446744073709551616", clients: "3" });
  assert.deepEqual(activity.peers().map((p) => [p.code, p.port, p.via]), [["10.0.0.2", 65526, "scan"]]);
});

test("requests: only GET and HEAD, only with our own Host", () => {
  const hosts = ownHosts("127.0.0.1", 8080);
  assert.deepEqual([...hosts].sort(), ["127.0.0.1:8080", "localhost:8080"]);
  assert.equal(refusal("GET", "127.0.0.1:8080", hosts), undefined);
  assert.equal(refusal("HEAD", "LOCALHOST:8080", hosts), undefined);
  assert.equal(refusal("POST", "127.0.0.1:8080", hosts)?.status, 405);
  assert.equal(refusal("GET", "attacker.example:8080", hosts)?.status, 403);
  assert.equal(refusal("GET", undefined, hosts)?.status, 403);
  // A refused Host wins over a refused method: nothing about the monitor is told to a foreign origin.
  assert.equal(refusal("POST", "attacker.example:8080", hosts)?.status, 403);
  assert.deepEqual([...ownHosts("10.0.0.1", 80)], ["10.0.0.1:80"]);
});
