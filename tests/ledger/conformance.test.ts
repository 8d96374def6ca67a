/**
 * One conformance suite for the Ledger interface, run against the in-memory model and against
 * DurableLedger (in a temp dir): the same calls must give the same answers and the same refusals.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableLedger, type Ledger, LedgerError, type LedgerFailure } from "../../src/ledger/ledger.ts";
import type { AccountNumber } from "../../src/protocol/values.ts";
import { ModelLedger } from "./model_ledger.ts";

const MAX = 9223372036854775807n;

interface Subject {
  readonly ledger: Ledger;
  dispose(): Promise<void>;
}

const dirs: string[] = [];
/** Removes the temp dirs; called per describe too (deno test --filter skips a file-level after). */
function cleanup(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
after(cleanup);

const SUBJECTS: Record<string, () => Promise<Subject>> = {
  ModelLedger: () => Promise.resolve({ ledger: new ModelLedger(), dispose: () => Promise.resolve() }),
  DurableLedger: async () => {
    const dir = mkdtempSync(join(tmpdir(), "bank-ledger-conf-"));
    dirs.push(dir);
    const ledger = await DurableLedger.open({ data: join(dir, "data/bank.db"), snapshotIntervalMs: 3_600_000 });
    return { ledger, dispose: () => ledger.shutdown() };
  },
};

const acct = (n: number) => n as AccountNumber;

/** The refusal of a call, whether it throws at once or rejects; fails when the call succeeds. */
async function refusal(call: () => unknown): Promise<LedgerError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof LedgerError, `expected a LedgerError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the ledger to refuse");
}

async function refusedWith(call: () => unknown, reason: LedgerFailure, account?: number): Promise<void> {
  const error = await refusal(call);
  assert.equal(error.reason, reason);
  if (account !== undefined) assert.equal(error.account, account);
}

/** Runs `body` with a fresh ledger of each kind, disposing of it afterwards. */
function withLedger(make: () => Promise<Subject>, body: (ledger: Ledger) => Promise<void>): () => Promise<void> {
  return async () => {
    const subject = await make();
    try {
      await body(subject.ledger);
    } finally {
      await subject.dispose();
    }
  };
}

for (const [name, make] of Object.entries(SUBJECTS)) {
  describe(`Ledger conformance: ${name}`, () => {
    after(cleanup);
    it("opens accounts 10000, 10001, 10002 with balance 0", withLedger(make, async (ledger) => {
      assert.equal(await ledger.count(), 0);
      assert.equal(await ledger.total(), 0n);
      assert.deepEqual([await ledger.open(), await ledger.open(), await ledger.open()], [10000, 10001, 10002]);
      assert.equal(await ledger.balance(acct(10001)), 0n);
      assert.equal(await ledger.count(), 3);
      assert.equal(await ledger.total(), 0n);
    }));

    it("deposits and withdraws exactly", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      await ledger.deposit(a, 3000n);
      await ledger.withdraw(a, 1234n);
      await ledger.deposit(a, 0n);
      assert.equal(await ledger.balance(a), 1766n);
      await ledger.withdraw(a, 1766n);
      assert.equal(await ledger.balance(a), 0n);
    }));

    it("keeps accounts apart", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      const b = await ledger.open();
      await ledger.deposit(a, 5n);
      await ledger.deposit(b, 7n);
      await ledger.withdraw(a, 2n);
      assert.equal(await ledger.balance(a), 3n);
      assert.equal(await ledger.balance(b), 7n);
      assert.equal(await ledger.total(), 10n);
      assert.equal(await ledger.count(), 2);
    }));

    it("closes an empty account: it is gone", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      const b = await ledger.open();
      await ledger.deposit(b, 9n);
      await ledger.close(a);
      assert.equal(await ledger.count(), 1);
      assert.equal(await ledger.total(), 9n);
      await refusedWith(() => ledger.balance(a), "no_such_account", a);
      await refusedWith(() => ledger.deposit(a, 1n), "no_such_account", a);
      await refusedWith(() => ledger.close(a), "no_such_account", a);
    }));

    it("never gives out a number in use", withLedger(make, async (ledger) => {
      const opened = new Set<number>();
      for (let i = 0; i < 5; i++) opened.add(await ledger.open());
      await ledger.close(acct(10002));
      opened.delete(10002);
      await ledger.close(acct(10004));
      opened.delete(10004);
      for (let i = 0; i < 3; i++) {
        const n = await ledger.open();
        assert.ok(!opened.has(n), `${n} is already open`);
        assert.ok(n >= 10000 && n <= 99999, `${n} is out of range`);
        opened.add(n);
      }
      assert.equal(await ledger.count(), opened.size);
    }));

    it("gives distinct numbers to concurrent opens", withLedger(make, async (ledger) => {
      const numbers = await Promise.all(Array.from({ length: 200 }, () => ledger.open()));
      assert.equal(new Set(numbers).size, 200);
      assert.equal(await ledger.count(), 200);
    }));

    it("refuses every operation on an account that does not exist", withLedger(make, async (ledger) => {
      await ledger.open(); // 10000
      await refusedWith(() => ledger.deposit(acct(10001), 1n), "no_such_account", 10001);
      await refusedWith(() => ledger.withdraw(acct(10001), 0n), "no_such_account", 10001);
      await refusedWith(() => ledger.close(acct(99999)), "no_such_account", 99999);
      await refusedWith(() => ledger.balance(acct(12345)), "no_such_account", 12345);
      assert.equal(await ledger.count(), 1);
    }));

    it("refuses a withdrawal above the balance and leaves it unchanged", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      await refusedWith(() => ledger.withdraw(a, 1n), "insufficient_funds", a);
      await ledger.deposit(a, 10n);
      await refusedWith(() => ledger.withdraw(a, 11n), "insufficient_funds", a);
      await refusedWith(() => ledger.withdraw(a, MAX), "insufficient_funds", a);
      assert.equal(await ledger.balance(a), 10n);
      assert.equal(await ledger.total(), 10n);
    }));

    it("holds 9223372036854775807 exactly and refuses to go above it", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      await ledger.deposit(a, MAX);
      assert.equal(await ledger.balance(a), MAX);
      await refusedWith(() => ledger.deposit(a, 1n), "balance_overflow", a);
      assert.equal(await ledger.balance(a), MAX);
      await ledger.withdraw(a, 1n);
      assert.equal(await ledger.balance(a), MAX - 1n);
      await ledger.deposit(a, 1n);
      assert.equal(await ledger.balance(a), MAX);
      const b = await ledger.open();
      await ledger.deposit(b, 5n);
      await refusedWith(() => ledger.deposit(b, MAX - 4n), "balance_overflow", b);
      await ledger.deposit(b, MAX - 5n);
      assert.equal(await ledger.balance(b), MAX);
    }));

    it("refuses to close an account that holds money", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      await ledger.deposit(a, 1n);
      await refusedWith(() => ledger.close(a), "account_not_empty", a);
      assert.equal(await ledger.balance(a), 1n);
      assert.equal(await ledger.count(), 1);
      await ledger.withdraw(a, 1n);
      await ledger.close(a);
      assert.equal(await ledger.count(), 0);
    }));

    it("totals beyond 2^63-1 exactly", withLedger(make, async (ledger) => {
      for (let i = 0; i < 3; i++) await ledger.deposit(await ledger.open(), MAX);
      const total = await ledger.total();
      assert.equal(typeof total, "bigint");
      assert.equal(total, 3n * MAX);
      await ledger.withdraw(acct(10002), MAX);
      assert.equal(await ledger.total(), 18446744073709551614n);
      await ledger.deposit(acct(10002), 4294967295n);
      await ledger.deposit(await ledger.open(), 4294967297n);
      assert.equal(await ledger.total(), 18446744073709551614n + 4294967295n + 4294967297n);
    }));

    it("adds 1000 concurrent deposits exactly", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      const b = await ledger.open();
      const calls: Promise<void>[] = [];
      for (let i = 1; i <= 1000; i++) calls.push(ledger.deposit(i % 2 ? a : b, BigInt(i)));
      await Promise.all(calls);
      assert.equal(await ledger.balance(a), 250000n);
      assert.equal(await ledger.balance(b), 250500n);
      assert.equal(await ledger.total(), 500500n);
    }));

    it("lets exactly as many concurrent withdrawals through as the balance allows", withLedger(make, async (ledger) => {
      const a = await ledger.open();
      await ledger.deposit(a, 50n);
      const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => Promise.resolve().then(() => ledger.withdraw(a, 1n))));
      assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 50);
      for (const o of outcomes) {
        if (o.status === "rejected") assert.equal((o.reason as LedgerError).reason, "insufficient_funds");
      }
      assert.equal(await ledger.balance(a), 0n);
    }));

    it("refuses with a rejected promise, not a synchronous throw", withLedger(make, async (ledger) => {
      // The Ledger interface: "Changes resolve once durable; refusals reject with LedgerError."
      const a = await ledger.open();
      const empty = await ledger.open();
      await ledger.deposit(a, MAX);
      const calls: [string, () => Promise<unknown>][] = [
        ["deposit to a missing account", () => ledger.deposit(acct(99999), 1n)],
        ["withdraw above the balance", () => ledger.withdraw(empty, 1n)],
        ["deposit past the maximum", () => ledger.deposit(a, 1n)],
        ["close an account with money", () => ledger.close(a)],
      ];
      for (const [what, call] of calls) {
        let promise: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          promise = call();
        }, `${what} threw synchronously instead of returning a rejected promise`);
        await assert.rejects(promise!, LedgerError, what);
      }
    }));

    it("refuses a new account when all 90000 numbers are taken, then reuses a freed one", withLedger(make, async (ledger) => {
      const numbers = await Promise.all(Array.from({ length: 90000 }, () => ledger.open()));
      assert.equal(new Set(numbers).size, 90000);
      assert.equal(await ledger.count(), 90000);
      await refusedWith(() => ledger.open(), "no_free_accounts");
      await ledger.close(acct(54321));
      assert.equal(await ledger.open(), 54321);
      await ledger.close(acct(10000));
      assert.equal(await ledger.open(), 10000);
      await refusedWith(() => ledger.open(), "no_free_accounts");
    }));
  });
}
