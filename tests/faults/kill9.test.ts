/**
 * kill -9 loop: 10 cycles of load from 16 pipelining connections (AD, AW of money surely there, some AC),
 * SIGKILL at a random moment (snapshots every second, so some kills land mid-snapshot), restart on the
 * same data. Proves no acknowledged change is ever lost and in-flight ones land all-or-nothing, in order.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type BankClient, type BankProcess, cleanUp, pipeline, Rng, sleep, startBank, within } from "./fault_helpers.ts";

const HOST = "127.0.12.1";
const CONFIG = { host: HOST, port: 65525, snapshot_interval: 1, max_connections: 256 };
const CYCLES = 10;
const CONNECTIONS = 16;
const SEED = Number(process.env.FAULT_SEED ?? 0x6b696c6c);

type Op = { readonly code: "AD" | "AW"; readonly account: number; readonly amount: bigint } | { readonly code: "AC" };

interface Account {
  /** The balance every acknowledged change adds up to. */
  balance: bigint;
  /** Changes sent and not yet answered, in the order sent (one owner connection per account). */
  pending: { code: "AD" | "AW"; amount: bigint }[];
}

const accounts = new Map<number, Account>();
/** Accounts known to exist (acknowledged AC, plus accounts an in-flight AC turned out to have created). */
let knownCount = 0;
/** AC requests sent and not answered. */
let pendingAC = 0;
const problems: string[] = [];

after(cleanUp);

/** One connection's load: pipelined batches of 1–4 changes on its own accounts, until the connection dies. */
async function worker(client: BankClient, own: number[], rng: Rng, counts: { acked: number }): Promise<void> {
  for (;;) {
    const batch: Op[] = [];
    for (let k = rng.int(1, 4); k > 0; k--) {
      const r = rng.next();
      if (r < 0.05 && own.length < 6) {
        batch.push({ code: "AC" });
        pendingAC++;
        continue;
      }
      const account = rng.pick(own);
      const acc = accounts.get(account)!;
      // Withdraw only what is surely there: the acknowledged balance minus every withdrawal still in flight.
      const surely = acc.pending.reduce((s, p) => (p.code === "AW" ? s - p.amount : s), acc.balance);
      const op: Op = r < 0.55 || surely === 0n
        ? { code: "AD", account, amount: BigInt(rng.int(1, 1000)) }
        : { code: "AW", account, amount: 1n + rng.big(surely - 1n) };
      acc.pending.push({ code: op.code, amount: op.amount });
      batch.push(op);
    }
    client.write(batch.map((op) => (op.code === "AC" ? "AC\r\n" : `${op.code} ${op.account}/${HOST} ${op.amount}\r\n`)).join(""));
    for (const op of batch) {
      let reply: string | undefined;
      try {
        reply = await client.readLine(5000);
      } catch (error) {
        problems.push(`no reply to ${op.code}: ${String(error)}`);
        return;
      }
      // The connection died (the kill): this op and the rest of the batch stay in flight.
      if (reply === undefined) return;
      if (op.code === "AC") {
        const match = /^AC ([0-9]{5})\/(.+)$/.exec(reply);
        if (!match || match[2] !== HOST || accounts.has(Number(match[1]))) {
          problems.push(`AC got '${reply}'`);
          return;
        }
        accounts.set(Number(match[1]), { balance: 0n, pending: [] });
        own.push(Number(match[1]));
        knownCount++;
        pendingAC--;
      } else {
        if (reply !== op.code) {
          problems.push(`${op.code} ${op.account} ${op.amount} got '${reply}'`);
          return;
        }
        const acc = accounts.get(op.account)!;
        acc.pending.shift();
        acc.balance += op.code === "AD" ? op.amount : -op.amount;
      }
      counts.acked++;
    }
  }
}

/**
 * After a restart: every account must hold its acknowledged balance plus some prefix of the changes that
 * were in flight on it (the journal is written in order, so what reached the disk is a prefix), and the
 * total must be the sum, within [acked − in-flight withdrawals, acked + in-flight deposits]. Then the
 * model adopts what the bank holds, ending the uncertainty.
 */
async function verifyAndResolve(bank: BankProcess, what: string): Promise<{ inFlight: number; landed: number }> {
  const client = await bank.client();
  try {
    const list = [...accounts.keys()];
    const replies = await pipeline(client, [...list.map((a) => `AB ${a}/${HOST}`), "BA", "BN"]);
    let sum = 0n;
    let low = 0n;
    let high = 0n;
    let inFlight = pendingAC;
    let landed = 0;
    const observed: bigint[] = [];
    list.forEach((account, i) => {
      const acc = accounts.get(account)!;
      const match = /^AB ([0-9]+)$/.exec(replies[i]!);
      assert.ok(match, `${what}: AB ${account} answered '${replies[i]}' (an acknowledged account must exist)`);
      const balance = BigInt(match[1]!);
      const prefixes = [acc.balance];
      for (const p of acc.pending) prefixes.push(prefixes.at(-1)! + (p.code === "AD" ? p.amount : -p.amount));
      const lo = acc.pending.reduce((s, p) => (p.code === "AW" ? s - p.amount : s), acc.balance);
      const hi = acc.pending.reduce((s, p) => (p.code === "AD" ? s + p.amount : s), acc.balance);
      assert.ok(
        prefixes.includes(balance),
        `${what}: account ${account} holds ${balance}; acknowledged ${acc.balance}, in flight ` +
          `${acc.pending.map((p) => `${p.code} ${p.amount}`).join(", ") || "nothing"} (allowed ${prefixes.join(" | ")}; range [${lo}, ${hi}])`,
      );
      landed += prefixes.indexOf(balance);
      inFlight += acc.pending.length;
      sum += balance;
      low += lo;
      high += hi;
      observed.push(balance);
    });
    const total = /^BA ([0-9]+)$/.exec(replies[list.length]!);
    assert.ok(total, `${what}: BA answered '${replies[list.length]}'`);
    // Accounts an in-flight AC may have created hold 0, so BA is exactly the sum of our accounts.
    assert.equal(BigInt(total[1]!), sum, `${what}: BA is not the sum of the balances`);
    assert.ok(low <= sum && sum <= high, `${what}: total ${sum} outside [${low}, ${high}]`);
    const count = /^BN ([0-9]+)$/.exec(replies[list.length + 1]!);
    assert.ok(count, `${what}: BN answered '${replies[list.length + 1]}'`);
    const n = Number(count[1]);
    assert.ok(knownCount <= n && n <= knownCount + pendingAC, `${what}: BN ${n}, expected ${knownCount}..${knownCount + pendingAC}`);
    // The bank's state is now the truth: adopt it.
    list.forEach((account, i) => {
      accounts.get(account)!.balance = observed[i]!;
      accounts.get(account)!.pending = [];
    });
    knownCount = n;
    pendingAC = 0;
    return { inFlight, landed };
  } finally {
    client.close();
  }
}

describe("kill -9 under load", { timeout: 60_000 }, () => {
  it(`keeps every acknowledged change through ${CYCLES} SIGKILLs (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    let bank = await startBank(CONFIG);
    const dir = bank.dir;
    const owners: number[][] = [];
    {
      // Two funded accounts per connection.
      const client = await bank.client();
      for (let i = 0; i < CONNECTIONS; i++) {
        const own: number[] = [];
        for (let j = 0; j < 2; j++) {
          const [opened] = await pipeline(client, ["AC"]);
          const account = Number(/^AC ([0-9]{5})\//.exec(opened!)?.[1]);
          assert.ok(account >= 10000, `AC answered '${opened}'`);
          assert.deepEqual(await pipeline(client, [`AD ${account}/${HOST} 5000`]), ["AD"]);
          accounts.set(account, { balance: 5000n, pending: [] });
          own.push(account);
          knownCount++;
        }
        owners.push(own);
      }
      client.close();
    }

    const totals = { acked: 0, inFlight: 0, landed: 0, torn: 0 };
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const counts = { acked: 0 };
      const clients = await Promise.all(owners.map(() => bank.client()));
      const workers = clients.map((c, i) => worker(c, owners[i]!, rng, counts));
      // A random moment: early (mid-start of the load) to late (after one or two snapshots).
      await sleep(rng.int(50, 1500));
      await bank.kill9();
      await within(Promise.all(workers), 10_000, `cycle ${cycle}: workers after the kill`);
      for (const c of clients) c.close();
      assert.deepEqual(problems, [], `cycle ${cycle}: wrong replies before the kill`);
      assert.ok(counts.acked > 0, `cycle ${cycle}: no change was acknowledged before the kill`);

      bank = await startBank(CONFIG, dir);
      if (bank.output.includes("torn tail")) totals.torn++;
      const { inFlight, landed } = await verifyAndResolve(bank, `cycle ${cycle}`);
      totals.acked += counts.acked;
      totals.inFlight += inFlight;
      totals.landed += landed;
    }

    // A clean stop and start at the end: nothing in flight, so the state must be exact.
    assert.ok((await bank.stop()) === 0, "SIGTERM did not exit 0");
    bank = await startBank(CONFIG, dir);
    await verifyAndResolve(bank, "after the final clean restart");
    await bank.stop();
    console.log(
      `kill9: ${CYCLES} cycles, ${totals.acked} changes acknowledged, ${totals.inFlight} in flight at the kills ` +
        `(${totals.landed} of them landed), ${totals.torn} restarts dropped a torn journal tail, ${accounts.size} accounts`,
    );
  });
});
