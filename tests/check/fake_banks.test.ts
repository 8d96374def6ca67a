/**
 * `bank check` against fake banks over real TCP (127.0.21.x): a correct one passes everything, and each
 * kind of broken bank seen in the wild fails exactly the check of the rule it breaks (a tolerated
 * deviation only warns). With --write, the bank's other account is never touched.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { passed, reportJson, reportText } from "../../src/check/report.ts";
import { type CheckOptions, type CheckReport, runChecks } from "../../src/check/run.ts";
import type { Status } from "../../src/check/types.ts";
import { type Break, startFakeBank } from "../helpers/fake_bank.ts";

/** Short pauses and deadlines (every silent exchange waits a whole timeout), with room for a busy test machine. */
const TIMING = { timeoutMs: 800, scanTimeoutMs: 1000, pauseMs: 2, gapMs: 25, settleMs: 25 } as const;
const PORT = 65531;

let nextHost = 1;

/** Starts a fake bank breaking `breaks`, checks it, stops it; the report and the fake's accounts after. */
async function check(breaks: Break | undefined, options: Partial<CheckOptions> = {}) {
  const host = `127.0.21.${nextHost++}`;
  const fake = await startFakeBank({ host, port: PORT, breaks, timeoutMs: 300 });
  try {
    const report = await runChecks({ host, write: true, ...TIMING, ...options });
    return { report, accounts: new Map(fake.accounts), host };
  } finally {
    await fake.close();
  }
}

function ids(report: CheckReport, status: Status): string[] {
  return report.results.filter((r) => r.status === status).map((r) => r.check.id).sort();
}

const FORWARD_CHECKS = ["forward-ab", "forward-ad", "forward-aw"];

test("a bank that follows the protocol passes every check, and its other account is untouched", async () => {
  const { report, accounts, host } = await check(undefined);
  assert.deepEqual(ids(report, "fail"), []);
  assert.deepEqual(ids(report, "warn"), []);
  assert.deepEqual(ids(report, "skip"), FORWARD_CHECKS);
  assert.ok(passed(report));
  assert.deepEqual([...accounts], [[10000, 1000n]]);
  assert.deepEqual(report.accounts, [`test account 10001/${host} opened and closed again`]);
  // The port search tries 65525 up to the fake's port, one connection each; then one per exchange.
  assert.equal(report.port, PORT);
  assert.equal(report.connections, PORT - 65525 + 1 + report.results.reduce((n, r) => n + r.results.length, 0));
});

test("read-only by default: no account is opened and the write checks say what they need", async () => {
  const { report, accounts } = await check(undefined, { write: false });
  assert.deepEqual(ids(report, "fail"), []);
  assert.deepEqual([...accounts], [[10000, 1000n]]);
  const skipped = report.results.filter((r) => r.status === "skip");
  assert.ok(skipped.some((r) => r.check.id === "ac" && r.note === "needs --write"));
  assert.ok(skipped.some((r) => r.check.id === "max-balance"));
  assert.deepEqual(report.accounts, []);
});

test("--forward checks forwarding through a test account of the other bank, which ends closed", async () => {
  const other = await startFakeBank({ host: "127.0.21.200", port: 65533, timeoutMs: 300 });
  try {
    const { report } = await check(undefined, { forward: "127.0.21.200" });
    assert.deepEqual(ids(report, "fail"), []);
    assert.deepEqual(report.results.filter((r) => FORWARD_CHECKS.includes(r.check.id)).map((r) => r.status), ["pass", "pass", "pass"]);
    assert.deepEqual([...other.accounts], [[10000, 1000n]]);
    assert.equal(report.accounts.at(-1), "test account 10001/127.0.21.200 closed (AR 10001/127.0.21.200 -> AR)");
  } finally {
    await other.close();
  }
});

test("read-only --forward compares a forwarded AB with the other bank's own answer", async () => {
  const other = await startFakeBank({ host: "127.0.21.201", port: 65533, timeoutMs: 300, balance: 2500n });
  try {
    const good = await check(undefined, { write: false, forward: "127.0.21.201" });
    assert.equal(good.report.results.find((r) => r.check.id === "forward-ab")?.status, "pass");
    // A bank that looks the account up among its own gives its own account's balance.
    const { report } = await check("no-forwarding", { write: false, forward: "127.0.21.201" });
    const forward = report.results.find((r) => r.check.id === "forward-ab")!;
    assert.equal(forward.status, "fail");
    assert.equal(forward.note, 'relayed "AB 1000", the other bank itself answers "AB 2500"');
    assert.deepEqual([...other.accounts], [[10000, 2500n]]);
  } finally {
    await other.close();
  }
});

/** Each broken bank: the required checks it fails and the checks that only warn. */
const BROKEN: { breaks: Break; fail: string[]; warn?: string[] }[] = [
  { breaks: "split-reads", fail: ["split-command"] },
  { breaks: "one-command-per-read", fail: ["pipelined"], warn: ["cr-only", "long-line", "split-line-end"] },
  { breaks: "crlf-only", fail: ["lf-only"], warn: ["cr-only"] },
  { breaks: "ending-crcrlf", fail: [], warn: ["reply-ending"] },
  { breaks: "ending-lfcr", fail: [], warn: ["reply-ending"] },
  {
    breaks: "errors-without-er",
    fail: [
      "account-range",
      "ar",
      "ar-not-empty",
      "aw-insufficient",
      "deposit-overflow",
      "forward-silent",
      "invalid-utf8",
      "malformed-account",
      "missing-field",
      "no-such-account",
      "number-form",
      "number-range",
      "unknown-command",
    ],
    warn: ["extra-field", "long-line"],
  },
  { breaks: "no-overflow-check", fail: ["deposit-overflow"] },
  { breaks: "ba-float", fail: ["ba-large"] },
  { breaks: "ba-error", fail: ["ba-large"] },
  { breaks: "forward-no-timeout", fail: ["forward-silent"] },
  { breaks: "bc-caller", fail: ["bc"] },
  { breaks: "case-sensitive", fail: ["lower-case"] },
];

for (const { breaks, fail, warn = [] } of BROKEN) {
  test(`a bank breaking the rule "${breaks}" fails ${fail.join(", ") || "nothing"}${warn.length ? `, warns ${warn.join(", ")}` : ""}`, async () => {
    const { report, accounts } = await check(breaks);
    assert.deepEqual(ids(report, "fail"), fail);
    assert.deepEqual(ids(report, "warn"), warn);
    assert.equal(passed(report), fail.length === 0);
    assert.deepEqual([...accounts], [[10000, 1000n]], "the other account is untouched and the test account is gone");
  });
}

test("the text report shows every byte sent and received, what was expected, the rule and why", async () => {
  const { report } = await check("split-reads", { write: false });
  const text = reportText(report);
  const line = text.split("\n").find((l) => l.includes("FAIL  split-command"));
  assert.ok(line, text);
  assert.ok(line.includes('"BN\\r\\n" "B"+"C\\r\\n" → "BN 1\\r\\nER Unknown command.\\r\\nER Unknown command.\\r\\n"'), line);
  assert.ok(line.includes("expects BN <number>, then BC <ip> (and nothing else)"), line);
  assert.match(text, /reply 2: an ER where an answer was expected\. TCP keeps no message boundaries/);
  assert.match(text, /rule: Connection: one command may arrive in several packets/);
  assert.match(text, /\n\d+ checks: \d+ passed, 1 failed, 0 warnings, \d+ skipped; \d+ connections, one at a time, 2 ms apart/);
  assert.match(text, /NOT OK: 1 required check fails: split-command$/);
});

test("the JSON report carries the same verdicts, with bytes escaped", async () => {
  const { report } = await check("ending-crcrlf", { write: false });
  const json = JSON.parse(reportJson(report));
  assert.equal(json.ok, true);
  const ending = json.checks.find((c: { id: string }) => c.id === "reply-ending");
  assert.equal(ending.status, "warn");
  assert.equal(ending.required, false);
  assert.equal(ending.note, "the reply ends with \\r\\r\\n");
  assert.deepEqual(ending.exchanges[0].sent, [["BN\\r\\n"]]);
  assert.equal(ending.exchanges[0].received, "BN 1\\r\\r\\n");
  assert.equal(json.connections, report.connections);
});
