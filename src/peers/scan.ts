/** Subnet scan: which banks answer on which host and port, and how much money and how many clients each has. */
import { logger } from "../log.ts";
import { parseBankCode, parsePeerNumber } from "../protocol/values.ts";
import { BANK_PORTS, exchange, expectReply, PeerError } from "./client.ts";

/** A bank found by the scan, with its totals. */
export interface ScannedBank {
  /** The address we dialled: banks are keyed by it, whatever their BC says. */
  code: string;
  port: number;
  /** What the bank's BC named, possibly another address. */
  reportedCode: string;
  amount: bigint;
  clients: bigint;
}

/** A host that accepted a connection on a bank port but is left out of the result (no valid BC, BA or BN), and why. */
export interface ScanProblem {
  code: string;
  port: number;
  reason: string;
}

/** The outcome of one scan. */
export interface ScanResult {
  /** The subnet and ports probed. */
  subnet: string;
  ports: readonly number[];
  /** Sorted by amount, largest first. */
  banks: ScannedBank[];
  problems: ScanProblem[];
  /** BC probes sent (our own bank is not probed). */
  probes: number;
  ms: number;
}

/** Our own bank, put into the result as it is instead of asking ourselves over the network. */
export interface SelfBank {
  code: string;
  port: number;
  amount: bigint;
  clients: bigint;
}

/** How to scan. */
export interface ScanOptions {
  /** IPv4 CIDR, /16–/32. */
  subnet: string;
  /** Default 65525–65535. */
  ports?: readonly number[];
  /** BC probes in flight at once. */
  concurrency: number;
  /** How long a BC probe waits for the connection: an empty address costs no more than this. */
  probeTimeoutMs: number;
  /**
   * Deadline of each BA and BN question, and of a BC probe whose connection was accepted: slow banks (a
   * process started per connection) answer after a second or more, and are banks all the same.
   */
  timeoutMs: number;
  self?: SelfBank;
  /** The address to connect from; default: whatever the kernel picks. */
  localAddress?: string;
  /** Called at most about every 50 ms while probing, and once when probing is done. */
  onProgress?: (done: number, total: number, found: number) => void;
}

const PROGRESS_INTERVAL_MS = 50;

const log = logger("peers");

function toInt(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Every host address of an IPv4 CIDR /16–/32: network and broadcast excluded up to /30; throws RangeError. */
export function subnetHosts(cidr: string): string[] {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
  const bits = Number(match?.[2]);
  if (match === null || parseBankCode(match[1]!) === undefined || bits < 16 || bits > 32) {
    throw new RangeError(`Not an IPv4 CIDR /16–/32: ${cidr}`);
  }
  const size = 2 ** (32 - bits);
  // Division instead of bit masks: JS bitwise operators are signed 32-bit and break above 127.x.
  const network = Math.floor(toInt(match[1]!) / size) * size;
  // /31 (point-to-point) and /32 have no network or broadcast address to leave out.
  const [first, last] = size <= 2 ? [network, network + size - 1] : [network + 1, network + size - 2];
  const hosts: string[] = [];
  for (let n = first; n <= last; n++) hosts.push(toIp(n));
  return hosts;
}

/** Runs `work` on every item with at most `concurrency` in flight; a fixed pool of workers, not one promise per item. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(items.length, Math.max(1, concurrency)) }, worker));
}

/** Asks a found bank `code` (BA or BN) and parses the number; a string says why it failed. */
async function askNumber(
  host: string,
  port: number,
  code: string,
  timeoutMs: number,
  localAddress: string | undefined,
): Promise<bigint | string> {
  let reply: string;
  try {
    reply = await exchange(host, port, code, timeoutMs, { localAddress });
  } catch (error) {
    return `${code}: ${(error as Error).message}`;
  }
  const fields = expectReply(reply, code);
  const value = fields?.length === 1 ? parsePeerNumber(fields[0]!) : undefined;
  return value ?? `${code} answered ${JSON.stringify(reply)}`;
}

/** `65525–65535`, or the list when the ports are not one run. */
export function portRange(ports: readonly number[]): string {
  const first = ports[0];
  const last = ports.at(-1);
  if (first === undefined || last === undefined) return "none";
  return ports.every((p, i) => p === first + i) ? (first === last ? `${first}` : `${first}–${last}`) : ports.join(",");
}

/** Finds every bank in the subnet (BC on each host and port), then asks each for BA and BN. */
export async function scanNetwork(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const { self } = options;
  const ports = options.ports ?? BANK_PORTS;
  const targets: { host: string; port: number }[] = [];
  for (const host of subnetHosts(options.subnet)) {
    for (const port of ports) if (host !== self?.code || port !== self.port) targets.push({ host, port });
  }

  // Banks are keyed by the dialled host: with several ports answering on one host, the lowest wins.
  const found = new Map<string, { ports: number[]; reportedCode: string }>();
  let done = 0;
  let lastProgress = 0;
  const problems: ScanProblem[] = [];
  await pool(targets, options.concurrency, async ({ host, port }) => {
    try {
      const reply = await exchange(host, port, "BC", options.timeoutMs, {
        localAddress: options.localAddress,
        connectTimeoutMs: options.probeTimeoutMs,
      });
      const fields = expectReply(reply, "BC");
      if (fields !== undefined) {
        const entry = found.get(host) ?? { ports: [], reportedCode: fields[0] ?? "" };
        entry.ports.push(port);
        found.set(host, entry);
      } else {
        problems.push({ code: host, port, reason: `BC answered ${JSON.stringify(reply)}` });
      }
    } catch (error) {
      // Refused, or no connection in time: no bank there, the answer for almost every probe. A host that
      // took the connection and then said nothing useful is worth naming.
      if (error instanceof PeerError && error.delivered) problems.push({ code: host, port, reason: `BC: ${error.message}` });
    }
    done++;
    const now = performance.now();
    if (options.onProgress !== undefined && now - lastProgress >= PROGRESS_INTERVAL_MS) {
      lastProgress = now;
      options.onProgress(done, targets.length, found.size);
    }
  });
  options.onProgress?.(done, targets.length, found.size);

  const banks: ScannedBank[] = [];
  const candidates: { code: string; port: number; reportedCode: string }[] = [];
  for (const [code, { ports: answered, reportedCode }] of found) {
    answered.sort((a, b) => a - b);
    // Our own bank keeps its address (its port is never probed); otherwise the lowest port does.
    const isSelf = self?.code === code;
    const owner = isSelf ? self.port : answered[0]!;
    if (!isSelf) candidates.push({ code, port: owner, reportedCode });
    for (const port of answered) {
      if (port !== owner) problems.push({ code, port, reason: `another bank on this address already answers on port ${owner}` });
    }
  }
  if (self !== undefined) banks.push({ code: self.code, port: self.port, reportedCode: self.code, amount: self.amount, clients: self.clients });

  await pool(candidates, options.concurrency, async ({ code, port, reportedCode }) => {
    const [amount, clients] = await Promise.all([
      askNumber(code, port, "BA", options.timeoutMs, options.localAddress),
      askNumber(code, port, "BN", options.timeoutMs, options.localAddress),
    ]);
    if (typeof amount === "bigint" && typeof clients === "bigint") banks.push({ code, port, reportedCode, amount, clients });
    else problems.push({ code, port, reason: [amount, clients].filter((r) => typeof r === "string").join("; ") });
  });

  banks.sort((a, b) => (a.amount === b.amount ? toInt(a.code) - toInt(b.code) : a.amount > b.amount ? -1 : 1));
  problems.sort((a, b) => toInt(a.code) - toInt(b.code) || a.port - b.port);
  const ms = Math.round(performance.now() - started);
  log.info("Scan of {subnet} ports {ports}: {found} banks, {left} left out, {probes} probes in {ms} ms", {
    event: "scan",
    subnet: options.subnet,
    ports: portRange(ports),
    probes: targets.length,
    found: banks.length,
    left: problems.length,
    banks: banks.map((b) => ({ code: b.code, port: b.port, amount: String(b.amount), clients: String(b.clients) })),
    left_out: problems,
    ms,
  });
  return { subnet: options.subnet, ports, banks, problems, probes: targets.length, ms };
}
