/**
 * Shared bits of the fault suite: finding the bank's pid and RSS through /proc (BankProcess keeps its
 * child private), a seeded PRNG, deadlines, and cleanup of every bank a test started.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { BankClient, type BankConfig, BankProcess } from "../helpers/bank_process.ts";

export const MAX = 9223372036854775807n;

/** Every bank started through `startBank`, so `cleanUp` can kill the ones a failed test left running. */
const started: BankProcess[] = [];
const dirs = new Set<string>();

/** Starts a bank (fresh dir, or `dir` to restart on the same data) and remembers it for cleanup. */
export async function startBank(config: BankConfig, dir?: string): Promise<BankProcess> {
  const bank = new BankProcess(config, dir);
  dirs.add(bank.dir);
  started.push(bank);
  await bank.start();
  return bank;
}

/** Kills every bank still running and removes their directories. */
export async function cleanUp(): Promise<void> {
  for (const bank of started.splice(0)) await bank.kill9().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** The pid of a running bank, found by its config path in /proc/<pid>/cmdline (the newest match). */
export function bankPid(bank: BankProcess): number {
  const needle = join(bank.dir, "config.json");
  let found = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const args = cmdline.split("\0");
    if (args.includes("serve") && args.includes(needle) && !isZombie(Number(entry))) found = Math.max(found, Number(entry));
  }
  if (found === 0) throw new Error(`no running bank process for ${needle}`);
  return found;
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

/** One field of /proc/<pid>/status, e.g. VmRSS (kB) or SigIgn (hex). */
export function procStatus(pid: number, field: string): string {
  const match = new RegExp(`^${field}:\\s*(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return match[1]!.trim();
}

/** Resident memory of a process in MB. */
export function rssMb(pid: number): number {
  return Number(procStatus(pid, "VmRSS").replace(/\s*kB$/, "")) / 1024;
}

/** Whether a process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

/** The soft limit on open files of a process (default: this one), from /proc/<pid>/limits. */
export function openFilesLimit(pid: number | "self" = "self"): number {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
}

/** Whether `prlimit` (util-linux) is on PATH. */
export function havePrlimit(): boolean {
  try {
    execFileSync("prlimit", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Sets the soft RLIMIT_FSIZE of a running process: bytes, or "unlimited". The hard limit stays
 * unlimited, so the limit can be lifted again without CAP_SYS_RESOURCE (containers often lack it).
 */
export function setFileSizeLimit(pid: number, bytes: number | "unlimited"): void {
  execFileSync("prlimit", ["--pid", String(pid), `--fsize=${bytes}:unlimited`], { stdio: ["ignore", "ignore", "pipe"] });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` is not settled within `ms`: no part of the suite may hang. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export { Rng } from "../helpers/random.ts";

/** Sends every line (CR LF added) in one write and returns the replies, one per line, in order. */
export async function pipeline(client: BankClient, lines: readonly string[], timeoutMs = 10_000): Promise<string[]> {
  client.write(lines.map((l) => `${l}\r\n`).join(""));
  const replies: string[] = [];
  for (const line of lines) {
    const reply = await client.readLine(timeoutMs);
    if (reply === undefined) throw new Error(`connection closed before the reply to ${line}`);
    replies.push(reply);
  }
  return replies;
}

/** Balances of accounts read over the protocol: AB for each, in one pipelined batch. */
export async function readBalances(client: BankClient, accounts: readonly number[], code: string): Promise<Map<number, string>> {
  const replies = await pipeline(client, accounts.map((a) => `AB ${a}/${code}`));
  return new Map(accounts.map((a, i) => [a, replies[i]!]));
}

export { BankClient, BankProcess };
