/**
 * Runs the checks of checks.ts against one bank: finds its port, talks to it one connection at a time
 * with a pause between connections, opens and removes the test accounts of `--write`, and hands back
 * every exchange for the report.
 */
import { BANK_PORTS, exchange, expectReply, PeerError } from "../peers/client.ts";
import { parseBankCode, parsePeerNumber } from "../protocol/values.ts";
import { CHECKS, cleanupLines, command } from "./checks.ts";
import { probe, startSilentBank } from "./probe.ts";
import type { CheckResult, Context, ExchangeResult } from "./types.ts";

/** How to check a bank. */
export interface CheckOptions {
  host: string;
  /** Default: the first of 65525–65535 that answers. */
  port?: number;
  /** Open a test account and move money through it (it ends at 0 and is closed). */
  write?: boolean;
  /** Another bank, to check forwarding through an account of it. */
  forward?: string;
  /** Deadline of every exchange (`timeout`). */
  timeoutMs: number;
  /** What scans wait for BC (`scan_time_out`): a slower BC is a warning. */
  scanTimeoutMs: number;
  /** Between connections, so a fragile bank is not knocked over. */
  pauseMs?: number;
  /** Between the pieces of a split command. */
  gapMs?: number;
  /** How long to listen for bytes after the last awaited reply. */
  settleMs?: number;
  /** Called before anything is changed at a bank, with what will be changed. */
  notice?: (text: string) => void;
  /** Called after each check. */
  onProgress?: (done: number, total: number) => void;
}

/** Everything a run found. */
export interface CheckReport {
  host: string;
  port: number;
  /** The bank code accounts were written with. */
  code: string;
  write: boolean;
  forward?: { code: string; port: number };
  results: CheckResult[];
  /** What happened to the test accounts, one sentence each. */
  accounts: string[];
  /** Connections opened, port search and clean-up included. */
  connections: number;
  pauseMs: number;
  ms: number;
}

/** The bank (or the `--forward` bank) cannot be found; nothing was checked. */
export class CheckError extends Error {
  override name = "CheckError";
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Where the silent bank listens: on loopback another 127.x address (the bank under test owns its own);
 * otherwise our address as the bank sees it, unless that is the bank's own machine.
 */
function silentHost(host: string, localAddress: string | undefined, code: string): string | undefined {
  if (host.startsWith("127.")) return host === "127.254.254.254" ? "127.254.254.253" : "127.254.254.254";
  if (localAddress === undefined || localAddress === host || localAddress === code) return undefined;
  return localAddress;
}

/** Runs the checks; throws CheckError when the bank is not there. */
export async function runChecks(options: CheckOptions): Promise<CheckReport> {
  const started = performance.now();
  const pauseMs = options.pauseMs ?? 100;
  const timing = { deadlineMs: options.timeoutMs, gapMs: options.gapMs ?? 150, settleMs: options.settleMs ?? 100 };
  const write = options.write === true;
  let connections = 0;
  let first = true;
  /** Paced: every connection after the first waits `pauseMs`. */
  const pace = async () => {
    if (!first) await sleep(pauseMs);
    first = false;
    connections++;
  };
  /** One plain exchange (peers/client.ts), paced and counted; a failure comes back as its message. */
  const ask = async (host: string, port: number, line: string): Promise<string | PeerError> => {
    await pace();
    return exchange(host, port, line, options.timeoutMs).catch((error: unknown) => {
      if (error instanceof PeerError) return error;
      throw error;
    });
  };
  /** The port where the other bank answers BC. */
  const locateOther = async (host: string): Promise<number> => {
    for (const port of BANK_PORTS) {
      const reply = await ask(host, port, "BC");
      if (typeof reply === "string" && expectReply(reply, "BC") !== undefined) return port;
    }
    throw new CheckError(`no bank answers BC on ${host} ports ${BANK_PORTS[0]}–${BANK_PORTS.at(-1)}`);
  };
  /**
   * The port where the bank answers (any reply: a broken BC is for the checks to report), the code its
   * accounts are written with, and our address as it sees us. The code is what its BC names, unless
   * that is not an address or is the caller's own (a bug the `bc` check reports): then the dialled one.
   */
  const locate = async (host: string, port?: number) => {
    for (const p of port === undefined ? BANK_PORTS : [port]) {
      await pace();
      const result = await probe(host, p, command("BC"), timing);
      const reply = result.lines[0]?.text;
      if (reply === undefined) continue;
      const named = expectReply(reply, "BC")?.[0];
      const usable = named !== undefined && parseBankCode(named) !== undefined && (named === host || named !== result.localAddress);
      return { port: p, code: usable ? named : host, localAddress: result.localAddress ?? "" };
    }
    const where = port === undefined ? `ports ${BANK_PORTS[0]}–${BANK_PORTS.at(-1)}` : `port ${port}`;
    throw new CheckError(`no bank answers on ${host} ${where}`);
  };

  const bank = await locate(options.host, options.port);
  const other = options.forward === undefined ? undefined : { port: await locateOther(options.forward) };
  const accounts: string[] = [];
  if (write) {
    const where = other === undefined ? options.host : `${options.host} and one at ${options.forward}`;
    options.notice?.(
      `--write: opening one test account at ${where}, moving money in and out so it ends at 0, then closing it; no other account is touched.`,
    );
  }
  let otherAccount: string | undefined;
  if (write && other !== undefined) {
    const reply = await ask(options.forward!, other.port, "AC");
    const opened = typeof reply === "string" ? expectReply(reply, "AC")?.[0] : undefined;
    otherAccount = opened?.split("/")[0];
    accounts.push(
      otherAccount === undefined
        ? `could not open an account at ${options.forward} (AC answered ${String(reply)}): forwarded AD/AW not checked`
        : `opened ${opened} at ${options.forward} (directly) for the forwarding checks`,
    );
  }

  let ctx: Context = {
    host: options.host,
    code: bank.code,
    localAddress: bank.localAddress,
    write,
    other: other === undefined ? undefined : { code: options.forward!, port: other.port },
    otherAccount,
    timeoutMs: options.timeoutMs,
    scanTimeoutMs: options.scanTimeoutMs,
  };

  const results: CheckResult[] = [];
  /** The test account, once AC opened it (ctx.account is cleared when AR closes it). */
  let opened: string | undefined;
  const silentAt = silentHost(options.host, bank.localAddress, bank.code);
  const silent = silentAt === undefined ? undefined : await startSilentBank(silentAt);
  if (silent !== undefined) ctx = { ...ctx, silent: silent.host };
  try {
    for (const check of CHECKS) {
      const plan = check.plan(ctx);
      if ("skip" in plan) {
        results.push({ check, status: "skip", note: plan.skip, results: [] });
        options.onProgress?.(results.length, CHECKS.length);
        continue;
      }
      const done: ExchangeResult[] = [];
      for (const ex of plan) {
        await pace();
        const before = silent?.accepted() ?? 0;
        const target = ex.to === "bank" ? { host: options.host, port: bank.port } : { host: options.forward!, port: other!.port };
        const result = await probe(target.host, target.port, ex, { ...timing, deadlineMs: ex.deadlineMs ?? options.timeoutMs });
        done.push({ ...result, silentConnections: (silent?.accepted() ?? 0) - before });
      }
      const verdict = check.judge(done, ctx);
      if (verdict.learned !== undefined) ctx = { ...ctx, ...verdict.learned };
      opened ??= ctx.account;
      results.push({ check, status: verdict.status, note: verdict.note, results: done });
      options.onProgress?.(results.length, CHECKS.length);
    }
  } finally {
    await silent?.close();
    if (ctx.account !== undefined) accounts.unshift(await cleanUp(ctx.account, options.host, bank.port));
    else if (opened !== undefined) accounts.unshift(`test account ${opened} opened and closed again`);
    if (otherAccount !== undefined) accounts.push(await cleanUp(`${otherAccount}/${options.forward}`, options.forward!, other!.port));
  }
  return { host: options.host, port: bank.port, code: bank.code, write, forward: ctx.other, results, accounts, connections, pauseMs, ms: performance.now() - started };

  /** Empties and closes a test account whatever the checks left in it; says how that went. */
  async function cleanUp(account: string, host: string, port: number): Promise<string> {
    const reply = await ask(host, port, `AB ${account}`);
    const field = typeof reply === "string" ? expectReply(reply, "AB")?.[0] : undefined;
    const balance = field === undefined ? undefined : parsePeerNumber(field);
    const replies: string[] = [];
    for (const line of cleanupLines(account, balance)) {
      const answer = await ask(host, port, line);
      replies.push(`${line} -> ${answer instanceof PeerError ? answer.message : answer}`);
    }
    const removed = replies.at(-1)?.endsWith("-> AR") === true;
    return removed
      ? `test account ${account} closed (${replies.join("; ")})`
      : `test account ${account} could NOT be closed (${replies.join("; ")}): remove it by hand`;
  }
}
