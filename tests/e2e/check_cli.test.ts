/**
 * `bank check` end to end: the built program checks this project's own banks (every check passes,
 * read-only and with --write --forward, and no account it did not open is touched), a broken fake bank
 * (exit 1), and refuses bad targets. Addresses 127.0.22.1–.3 and 127.0.22.20–.21.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BankProcess, runBank } from "../helpers/bank_process.ts";
import { expectReply, fund, startBanks, stopBanks } from "../helpers/bank_network.ts";
import { startFakeBank } from "../helpers/fake_bank.ts";

describe("bank check", () => {
  let banks: BankProcess[] = [];
  let dir: string;

  /** Runs `bank check <args>` with deadlines that leave room for a busy test machine (the banks forward within 1 s). */
  function check(...args: string[]) {
    return runBank(["check", ...args, "--config", join(dir, "config.json")], { cwd: dir, timeoutMs: 60_000 });
  }

  /** BA and BN of a bank, asked directly. */
  async function totals(bank: BankProcess): Promise<[string, string]> {
    const client = await bank.client();
    try {
      return [await client.request("BA"), await client.request("BN")];
    } finally {
      client.close();
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "bank-check-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ timeout: 2, scan_time_out: 1 }));
    banks = await startBanks([
      { host: "127.0.22.1", port: 65526, amount: 5000n, clients: 2 },
      { host: "127.0.22.2", port: 65529, amount: 700n, clients: 1 },
    ]);
    await fund(banks[0]!, { amount: 5000n, clients: 2 });
    await fund(banks[1]!, { amount: 700n, clients: 1 });
  });

  after(async () => {
    await stopBanks(banks);
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes every check on this bank with --write --forward, touching no account it did not open", async () => {
    const before = await Promise.all(banks.map(totals));
    const { code, stdout, stderr } = await check("127.0.22.1", "--write", "--forward", "127.0.22.2");
    assert.equal(code, 0, stdout + stderr);
    assert.match(stderr, /^--write: opening one test account at 127\.0\.22\.1 and one at 127\.0\.22\.2, moving money in and out so it ends at 0/m);
    assert.match(stdout, /^bank check 127\.0\.22\.1:65526 \(bank code 127\.0\.22\.1\), --write, forwarding through 127\.0\.22\.2:65529$/m);
    assert.doesNotMatch(stdout, /^ {2}(FAIL|WARN|SKIP) /m);
    assert.match(stdout, /\n(\d+) checks: \1 passed, 0 failed, 0 warnings, 0 skipped; \d+ connections, one at a time, 100 ms apart/);
    assert.match(stdout, /^test account 10002\/127\.0\.22\.1 opened and closed again$/m);
    assert.match(stdout, /^test account 10001\/127\.0\.22\.2 closed \(AR 10001\/127\.0\.22\.2 -> AR\)$/m);
    assert.match(stdout, /\nOK: every required check passes\n$/);
    assert.deepEqual(await Promise.all(banks.map(totals)), before);
    // The accounts that were there hold what they held.
    const client = await banks[0]!.client();
    try {
      await expectReply(client, "AB 10000/127.0.22.1", "AB 5000");
      await expectReply(client, "AB 10001/127.0.22.1", "AB 0");
    } finally {
      client.close();
    }
  });

  it("is read-only by default and prints JSON with --json", async () => {
    const { code, stdout } = await check("127.0.22.1:65526", "--json");
    assert.equal(code, 0, stdout);
    const report = JSON.parse(stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(report.bank, { host: "127.0.22.1", port: 65526, code: "127.0.22.1" });
    assert.equal(report.summary.fail, 0);
    assert.equal(report.summary.warn, 0);
    const skipped = report.checks.filter((c: { status: string }) => c.status === "skip").map((c: { id: string }) => c.id);
    assert.ok(skipped.includes("ac") && skipped.includes("forward-ab"), skipped.join(","));
    assert.ok(report.checks.every((c: { status: string }) => c.status === "pass" || c.status === "skip"));
    assert.deepEqual(await totals(banks[0]!), ["BA 5000", "BN 2"]);
  });

  it("exits 1 and names the broken rule for a bank that takes each TCP read for a command", async () => {
    const fake = await startFakeBank({ host: "127.0.22.20", port: 65530, breaks: "split-reads", timeoutMs: 500 });
    try {
      const { code, stdout } = await check("127.0.22.20");
      assert.equal(code, 1, stdout);
      assert.match(stdout, /^ {2}FAIL {2}split-command +"BN\\r\\n" "B"\+"C\\r\\n" → "BN 1\\r\\nER Unknown command\.\\r\\nER Unknown command\.\\r\\n"/m);
      assert.match(stdout, /\nNOT OK: 1 required check fails: split-command\n$/);
    } finally {
      await fake.close();
    }
  });

  it("exits 1 when no bank answers, and 2 for a target that is not an address", async () => {
    const nobody = await check("127.0.22.21:65530");
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no bank answers on 127\.0\.22\.21 port 65530/);
    const bad = await check("127.0.22");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected <ip> or <ip>:<port>/);
  });
});
