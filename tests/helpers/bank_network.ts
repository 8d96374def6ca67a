/**
 * Several real banks for the network end-to-end tests: start them on 127.x addresses, give each a
 * chosen total (BA) and number of clients (BN) by AC + AD, read their JSON-lines logs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BankClient, type BankConfig, BankProcess } from "./bank_process.ts";

/** One bank of a test network: where it listens and which totals it gets. */
export interface BankSpec {
  host: string;
  port: number;
  /** BA after funding: all of it on the first account. */
  amount: bigint;
  /** BN after funding: this many accounts (at least 1 when amount > 0). */
  clients: number;
  /** Config keys of this bank only (e.g. `language`). */
  config?: Record<string, unknown>;
}

/** Config every network test bank shares (on top of BankProcess's own defaults). */
export const NETWORK_CONFIG = { timeout: 1, scan_time_out: 0.2, client_time_out: 60 } as const;

/** Starts one bank per spec (in parallel) with `extra` config; stops those that started if one fails. */
export async function startBanks(specs: readonly BankSpec[], extra: Record<string, unknown> = {}): Promise<BankProcess[]> {
  const banks = specs.map((s) => new BankProcess({ ...NETWORK_CONFIG, ...extra, ...s.config, host: s.host, port: s.port } as BankConfig));
  const started = await Promise.allSettled(banks.map((b) => b.start()));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await stopBanks(banks);
    throw (failed as PromiseRejectedResult).reason;
  }
  return banks;
}

/** Stops every bank (SIGTERM), ignoring those that never started. */
export async function stopBanks(banks: readonly BankProcess[]): Promise<void> {
  await Promise.all(banks.map((b) => b.stop().catch(() => null)));
}

/** Sends `line` and fails unless the reply matches `expected` (a string: exactly; a RegExp: matches). */
export async function expectReply(client: BankClient, line: string, expected: string | RegExp): Promise<string> {
  const reply = await client.request(line);
  if (typeof expected === "string" ? reply !== expected : !expected.test(reply)) {
    throw new Error(`${line} -> ${JSON.stringify(reply)}, expected ${String(expected)}`);
  }
  return reply;
}

/** Opens `clients` accounts on the bank and deposits `amount` on the first one; returns the accounts as `n/ip`. */
export async function fund(bank: BankProcess, { amount, clients }: { amount: bigint; clients: number }): Promise<string[]> {
  const client = await bank.client();
  try {
    const accounts: string[] = [];
    for (let i = 0; i < clients; i++) {
      const reply = await expectReply(client, "AC", new RegExp(`^AC [0-9]{5}/${bank.host.replaceAll(".", "\\.")}$`));
      accounts.push(reply.slice(3));
    }
    if (amount > 0n) await expectReply(client, `AD ${accounts[0]} ${amount}`, "AD");
    await expectReply(client, "BA", `BA ${amount}`);
    await expectReply(client, "BN", `BN ${clients}`);
    return accounts;
  } finally {
    client.close();
  }
}

/** One record of a bank's log (`<dir>/logs/bank.log`, JSON lines, properties flattened). */
export type LogRecord = Record<string, unknown>;

/** Every complete record of the bank's log so far (a half-written last line is skipped). */
export function logRecords(bank: BankProcess): LogRecord[] {
  let text: string;
  try {
    text = readFileSync(join(bank.dir, "logs/bank.log"), "utf8");
  } catch {
    return [];
  }
  const records: LogRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // The sink flushes in chunks: the last line may still be incomplete.
    }
  }
  return records;
}

/** Waits until the bank's log holds a record that `match` accepts (the file sink flushes every 100 ms). */
export async function waitForLog(bank: BankProcess, match: (r: LogRecord) => boolean, what: string, timeoutMs = 3000): Promise<LogRecord> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const hit = logRecords(bank).find(match);
    if (hit) return hit;
    if (performance.now() > deadline) {
      const tail = logRecords(bank).slice(-8).map((r) => JSON.stringify(r)).join("\n");
      throw new Error(`no log record of ${bank.host} with ${what} within ${timeoutMs} ms; last records:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `work` and measures how long it took, in ms. */
export async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}
