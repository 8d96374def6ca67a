/**
 * What the built bank keeps on disk: every acknowledged deposit survives kill -9 under load; SIGTERM
 * exits 0 with a snapshot and a compacted journal; a damaged snapshot stops the start with exit 1.
 * Addresses: 127.0.0.10–127.0.0.13, port 65530.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeRecords } from "../../src/ledger/journal.ts";
import { type BankClient, BankProcess, runBank } from "../helpers/bank_process.ts";

const PORT = 65530;
const dirs = new Set<string>();
const running: BankProcess[] = [];

/** Kills what is still running and removes the dirs (called per describe: deno test --filter skips a file-level after). */
async function cleanup(): Promise<void> {
  for (const bank of running.splice(0)) await bank.stop("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
after(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a bank (on `dir` to restart on the same data). */
async function start(host: string, dir?: string): Promise<BankProcess> {
  const bank = new BankProcess({ host, port: PORT, snapshot_interval: 1 }, dir);
  dirs.add(bank.dir);
  running.push(bank);
  return await bank.start();
}

async function stop(bank: BankProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (running.includes(bank)) running.splice(running.indexOf(bank), 1);
  return await bank.stop(signal);
}

const dataOf = (bank: BankProcess) => join(bank.dir, "data/bank.db");

async function openAccount(c: BankClient): Promise<string> {
  const reply = await c.request("AC");
  const match = reply.match(/^AC (\d{5})\//);
  assert.ok(match, reply);
  return match[1]!;
}

/**
 * One connection depositing into its own account with up to `window` requests in flight, until the
 * connection breaks. Records what was acknowledged and what was sent but not answered, in order.
 */
class Depositor {
  acked = 0n;
  readonly inFlight: bigint[] = [];
  #stopped = false;
  readonly done: Promise<void>;

  constructor(readonly client: BankClient, readonly account: string, host: string, window: number) {
    this.done = this.#run(host, window);
  }

  async #run(host: string, window: number): Promise<void> {
    let n = 0;
    const send = () => {
      const amount = BigInt(1 + (n++ % 997));
      this.inFlight.push(amount);
      this.client.write(`AD ${this.account}/${host} ${amount}\r\n`);
    };
    for (let i = 0; i < window; i++) send();
    for (;;) {
      let reply: string | undefined;
      try {
        reply = await this.client.readLine(10_000);
      } catch {
        return;
      }
      if (reply === undefined) return; // the bank died
      assert.equal(reply, "AD", `unexpected reply ${reply}`);
      this.acked += this.inFlight.shift()!;
      if (!this.#stopped) send();
    }
  }

  /** Stops sending new deposits; the ones in flight are still read. */
  stop(): void {
    this.#stopped = true;
  }

  /** Every balance the account may have after a crash: acked plus each prefix of what was in flight. */
  allowed(): bigint[] {
    const out = [this.acked];
    for (const amount of this.inFlight) out.push(out.at(-1)! + amount);
    return out;
  }
}

describe("durability of the built bank", () => {
  after(cleanup);
  it("keeps every acknowledged deposit through kill -9 under load", async () => {
    const host = "127.0.0.10";
    let bank = await start(host);
    const dir = bank.dir;
    const setup = await bank.client();
    const accounts: string[] = [];
    for (let i = 0; i < 16; i++) accounts.push(await openAccount(setup));
    setup.close();
    const expected = new Map<string, bigint>(accounts.map((a) => [a, 0n]));

    for (let round = 0; round < 2; round++) {
      const depositors = await Promise.all(accounts.map(async (a, i) => new Depositor(await bank.client(), a, host, 1 + (i % 8))));
      const delay = 300 + Math.floor(Math.random() * 900);
      await sleep(delay);
      await stop(bank, "SIGKILL");
      await Promise.all(depositors.map((d) => d.done));
      for (const d of depositors) d.client.close();
      const ackedTotal = depositors.reduce((s, d) => s + d.acked, 0n);
      assert.ok(ackedTotal > 0n, `round ${round}: nothing was acknowledged in ${delay} ms`);

      bank = await start(host, dir);
      const c = await bank.client();
      for (const d of depositors) {
        const reply = await c.request(`AB ${d.account}/${host}`);
        const balance = BigInt(reply.replace(/^AB /, ""));
        const before = expected.get(d.account)!;
        const allowed = d.allowed().map((x) => before + x);
        assert.ok(
          allowed.includes(balance),
          `round ${round}, kill after ${delay} ms: account ${d.account} holds ${balance}; acknowledged ${before + d.acked}, ` +
            `in flight ${d.inFlight.join(",")}: ${balance < allowed[0]! ? "an acknowledged deposit was lost" : "not a prefix of the deposits sent"}`,
        );
        expected.set(d.account, balance);
      }
      const total = [...expected.values()].reduce((s, x) => s + x, 0n);
      assert.equal(await c.request("BA"), `BA ${total}`);
      assert.equal(await c.request("BN"), "BN 16");
      c.close();
    }
    assert.equal(await stop(bank, "SIGTERM"), 0);
  });

  it("exits 0 on SIGTERM and restarts from its snapshot with everything, the journal compacted", async () => {
    const host = "127.0.0.11";
    const bank = await start(host);
    const c = await bank.client();
    const a = await openAccount(c);
    const b = await openAccount(c);
    const closed = await openAccount(c);
    assert.equal(await c.request(`AD ${b}/${host} 9223372036854775807`), "AD");
    assert.equal(await c.request(`AR ${closed}/${host}`), "AR");
    const depositor = new Depositor(await bank.client(), a, host, 16);
    await sleep(300);
    depositor.stop();
    while (depositor.inFlight.length > 0) await sleep(10);
    // Clients stay connected, idle, while the bank stops.
    const code = await stop(bank, "SIGTERM");
    await depositor.done;
    depositor.client.close();
    c.close();
    assert.equal(code, 0, bank.output);
    assert.ok(depositor.acked > 0n);
    assert.ok(existsSync(dataOf(bank)), "a snapshot file exists after SIGTERM");
    const journal = `${dataOf(bank)}.journal`;
    // Compaction keeps only the last record (already in the snapshot), so a missing snapshot would show.
    const kept = decodeRecords(readFileSync(journal));
    assert.equal(kept.records.length, 1, "the journal is compacted into the snapshot");
    assert.equal(kept.tornBytes, 0);

    const again = await start(host, bank.dir);
    const c2 = await again.client();
    assert.equal(await c2.request(`AB ${a}/${host}`), `AB ${depositor.acked}`);
    assert.equal(await c2.request(`AB ${b}/${host}`), "AB 9223372036854775807");
    assert.match(await c2.request(`AB ${closed}/${host}`), /^ER /);
    assert.equal(await c2.request("BN"), "BN 2");
    assert.equal(await c2.request("BA"), `BA ${9223372036854775807n + depositor.acked}`);
    c2.close();
    assert.equal(await stop(again, "SIGTERM"), 0);
  });

  it("stops promptly on SIGTERM while a client is still sending, answering every command it carried out", async () => {
    const host = "127.0.0.11";
    // client_time_out well above the 3 s allowed for stopping, but short enough that a hang ends the test.
    const bank = new BankProcess({ host, port: PORT + 1, client_time_out: 6 });
    dirs.add(bank.dir);
    running.push(bank);
    await bank.start();
    const c = await bank.client();
    const a = await openAccount(c);
    c.close();
    const depositor = new Depositor(await bank.client(), a, host, 32);
    await sleep(300);
    const started = performance.now();
    const code = await stop(bank, "SIGTERM");
    const ms = Math.round(performance.now() - started);
    await depositor.done;
    depositor.client.close();
    assert.equal(code, 0, bank.output);

    const again = new BankProcess({ host, port: PORT + 1 }, bank.dir);
    running.push(again);
    await again.start();
    const c2 = await again.client();
    // A graceful stop answers every command it carried out: the balance is exactly what was acknowledged.
    assert.equal(await c2.request(`AB ${a}/${host}`), `AB ${depositor.acked}`);
    c2.close();
    assert.equal(await stop(again, "SIGTERM"), 0);
    assert.ok(ms < 3000, `SIGTERM took ${ms} ms to stop the bank while a client was sending (client_time_out 6 s)`);
  });

  it("refuses to start on a damaged snapshot: exit 1, one clear line, the file left as it was", async () => {
    const host = "127.0.0.12";
    const bank = await start(host);
    const c = await bank.client();
    const a = await openAccount(c);
    assert.equal(await c.request(`AD ${a}/${host} 500`), "AD");
    c.close();
    assert.equal(await stop(bank, "SIGTERM"), 0);
    const bytes = readFileSync(dataOf(bank));
    bytes[bytes.length - 200] ^= 0x40;
    writeFileSync(dataOf(bank), bytes);

    const { code, stderr } = await runBank(["serve", "--config", join(bank.dir, "config.json")], { cwd: bank.dir });
    assert.equal(code, 1, stderr);
    const lines = stderr.split("\n").filter((l) => l.trim() !== "");
    const line = lines.find((l) => /snapshot|bank\.db|corrupt|damaged|checksum/i.test(l));
    assert.ok(line, `no line names the damaged store: ${JSON.stringify(stderr)}`);
    assert.ok(line.includes("bank.db"), `the line should name the file: ${line}`);
    assert.ok(!/^\s+at /m.test(stderr), `a stack trace instead of a clear line: ${stderr}`);
    assert.deepEqual(readFileSync(dataOf(bank)), bytes, "the damaged snapshot is left as it was");
    assert.ok(!stderr.includes("listening on"), "the bank must not serve an empty ledger");
  });

  it("loses no acknowledged deposit when a second bank is started on the same data by mistake", async () => {
    const host = "127.0.0.12";
    const first = await start(host);
    const c1 = await first.client();
    const a = await openAccount(c1);
    assert.equal(await c1.request(`AD ${a}/${host} 100`), "AD");
    // The same data file, another port: a second bank must refuse to start, or else lose nothing.
    const second = new BankProcess({ host, port: PORT + 1, data: dataOf(first) });
    dirs.add(second.dir);
    let refused = false;
    try {
      running.push(second);
      await second.start();
    } catch {
      refused = true;
      if (running.includes(second)) running.splice(running.indexOf(second), 1);
    }
    if (refused) {
      assert.match(second.output, /bank\.db/, `the refusal should name the data file: ${second.output}`);
      c1.close();
      assert.equal(await stop(first, "SIGTERM"), 0);
      return;
    }
    const c2 = await second.client();
    assert.equal(await c2.request(`AD ${a}/${host} 7`), "AD");
    assert.equal(await c1.request(`AD ${a}/${host} 5`), "AD");
    c1.close();
    c2.close();
    assert.equal(await stop(first, "SIGTERM"), 0);
    assert.equal(await stop(second, "SIGTERM"), 0);
    const again = await start(host, first.dir);
    const c3 = await again.client();
    const balance = await c3.request(`AB ${a}/${host}`);
    c3.close();
    await stop(again, "SIGTERM");
    assert.equal(
      balance,
      "AB 112",
      "a second bank started on the same data file while the first ran; deposits 100, 7 and 5 were acknowledged",
    );
  });

  it("starts after a torn journal tail, says so, and keeps the whole records", async () => {
    const host = "127.0.0.13";
    const bank = await start(host);
    const c = await bank.client();
    const a = await openAccount(c);
    assert.equal(await c.request(`AD ${a}/${host} 77`), "AD");
    c.close();
    await stop(bank, "SIGKILL");
    appendFileSync(`${dataOf(bank)}.journal`, Uint8Array.of(0x20, 0, 0, 0, 1, 2, 3, 4, 0x53, 0x20));
    const again = await start(host, bank.dir);
    assert.match(again.output, /torn/i, "the start should report the torn tail");
    const c2 = await again.client();
    assert.equal(await c2.request(`AB ${a}/${host}`), "AB 77");
    assert.equal(await c2.request(`AD ${a}/${host} 1`), "AD");
    c2.close();
    assert.equal(await stop(again, "SIGTERM"), 0);
  });
});
