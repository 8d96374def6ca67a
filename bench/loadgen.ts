/**
 * A closed-loop TCP load generator for line protocols: N connections, each keeping D requests in
 * flight. Works for the bank (`AD …` → `AD`) and for Redis' inline protocol (`INCRBY …` → `:<int>`).
 *
 * Each connection writes its first D requests in one write; every `data` event that completes k reply
 * lines is answered by k new requests, again in one write, so D stay in flight. A request's latency
 * runs from the moment its write was issued to the moment the chunk holding its reply line was read.
 */
import { connect, type Socket } from "node:net";
import process from "node:process";

/** Where to send load and what a request and a good reply look like. */
export interface LoadTarget {
  readonly host: string;
  readonly port: number;
  /** One request line, line end included (`AD 10001/127.0.0.50 7\r\n`). */
  request(): string;
  /** A reply line counts as a success when it starts with this. */
  readonly okPrefix: string;
  /** When true the whole reply line (CR stripped) must equal okPrefix. */
  readonly okExact?: boolean;
}

/** How much load, for how long. */
export interface LoadOptions {
  readonly connections: number;
  /** Requests in flight per connection. */
  readonly depth: number;
  readonly durationMs: number;
  /** Load before the measured window; its replies are not counted. */
  readonly warmupMs: number;
  /** After the window, how long to wait for replies still in flight before dropping the sockets. */
  readonly drainTimeoutMs?: number;
  /** Called when the measured window opens and when it closes (to read the server's CPU time, say). */
  readonly onWindowStart?: () => void;
  readonly onWindowEnd?: () => void;
  /** Where the latencies go; pass one to several runs to get percentiles over all of them. */
  readonly samples?: Samples;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** What one load run measured (measured window only). */
export interface LoadResult {
  readonly connections: number;
  readonly depth: number;
  readonly durationMs: number;
  /** Successful replies in the window. */
  readonly ops: number;
  readonly opsPerSec: number;
  /** Replies in the window that were not a success. */
  readonly errors: number;
  /** The first few failed reply lines, for the report. */
  readonly errorSamples: string[];
  readonly latencyMs: LatencySummary;
  /** CPU the load generator itself used in the window, as a share of one core (0.97 = 97%). */
  readonly loadgenCpu: number;
}

/** A growable array of doubles: latency samples without boxing. */
export class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  /** Percentiles (nearest rank) of everything pushed. */
  summary(): LatencySummary {
    const n = this.#length;
    if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
    const sorted = this.#data.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1]!, mean: sum / n };
  }
}

const LF = 0x0a;
const CR = 0x0d;
/** Bytes of a reply line kept for checking it and quoting it in errors. */
const KEEP_BYTES = 120;

/** Opens a TCP connection with Nagle off. */
export function open(host: string, port: number, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Shared state of one run. */
interface Run {
  readonly target: LoadTarget;
  readonly ok: Uint8Array;
  readonly okExact: boolean;
  readonly samples: Samples;
  windowStart: number;
  windowEnd: number;
  sending: boolean;
  ops: number;
  errors: number;
  readonly errorSamples: string[];
}

/** One loaded connection: a FIFO of send times for the requests in flight. */
class LoadConnection {
  readonly #socket: Socket;
  readonly #run: Run;
  readonly #sent: Float64Array;
  #head = 0;
  #inFlight = 0;
  readonly #line = new Uint8Array(KEEP_BYTES);
  #lineLength = 0;
  #drained: (() => void) | undefined;

  constructor(socket: Socket, run: Run, depth: number) {
    this.#socket = socket;
    this.#run = run;
    this.#sent = new Float64Array(depth);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#inFlight = 0;
      this.#drained?.();
    });
  }

  /** Sends `count` requests in one write. */
  send(count: number): void {
    if (count === 0 || this.#socket.destroyed) return;
    let out = "";
    for (let i = 0; i < count; i++) out += this.#run.target.request();
    const now = performance.now();
    const size = this.#sent.length;
    for (let i = 0; i < count; i++) this.#sent[(this.#head + this.#inFlight + i) % size] = now;
    this.#inFlight += count;
    this.#socket.write(out);
  }

  /** Resolves when every request sent has its reply (or the socket closed). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const run = this.#run;
    const now = performance.now();
    const counted = now >= run.windowStart && now < run.windowEnd;
    let replies = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte !== LF) {
        if (byte !== CR && this.#lineLength < KEEP_BYTES) this.#line[this.#lineLength++] = byte;
        continue;
      }
      if (this.#lineLength === 0) continue;
      replies++;
      const sentAt = this.#sent[this.#head]!;
      this.#head = (this.#head + 1) % this.#sent.length;
      this.#inFlight--;
      if (counted) {
        if (this.#isOk()) {
          run.ops++;
          run.samples.push(now - sentAt);
        } else {
          run.errors++;
          if (run.errorSamples.length < 5) run.errorSamples.push(Buffer.from(this.#line.subarray(0, this.#lineLength)).toString());
        }
      }
      this.#lineLength = 0;
    }
    if (run.sending && now < run.windowEnd) this.send(replies);
    else if (this.#inFlight <= 0) this.#drained?.();
  }

  #isOk(): boolean {
    const { ok, okExact } = this.#run;
    if (this.#lineLength < ok.length || (okExact && this.#lineLength !== ok.length)) return false;
    for (let i = 0; i < ok.length; i++) if (this.#line[i] !== ok[i]) return false;
    return true;
  }
}

/** Runs the load: connects every connection, warms up, measures, drains; resolves with the window's figures. */
export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const run: Run = {
    target,
    ok: Buffer.from(target.okPrefix),
    okExact: target.okExact ?? false,
    samples: options.samples ?? new Samples(),
    windowStart: Infinity,
    windowEnd: Infinity,
    sending: true,
    ops: 0,
    errors: 0,
    errorSamples: [],
  };
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < options.connections; i++) sockets.push(await open(target.host, target.port));
  } catch (error) {
    for (const s of sockets) s.destroy();
    throw error;
  }
  const connections = sockets.map((s) => new LoadConnection(s, run, options.depth));
  const started = performance.now();
  run.windowStart = started + options.warmupMs;
  run.windowEnd = run.windowStart + options.durationMs;
  let cpuAtStart = process.cpuUsage();
  const opened = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    options.onWindowStart?.();
  }, options.warmupMs);
  for (const c of connections) c.send(options.depth);
  await new Promise((resolve) => setTimeout(resolve, run.windowEnd - performance.now() + 1));
  clearTimeout(opened);
  const cpu = process.cpuUsage(cpuAtStart);
  options.onWindowEnd?.();
  run.sending = false;
  const drainTimeoutMs = options.drainTimeoutMs ?? 5000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(connections.map((c) => c.drained())),
    new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
  ]);
  clearTimeout(timer);
  for (const c of connections) c.close();
  return {
    connections: options.connections,
    depth: options.depth,
    durationMs: options.durationMs,
    ops: run.ops,
    opsPerSec: run.ops / (options.durationMs / 1000),
    errors: run.errors,
    errorSamples: run.errorSamples,
    latencyMs: run.samples.summary(),
    loadgenCpu: (cpu.user + cpu.system) / 1000 / options.durationMs,
  };
}

/**
 * Sends many request lines over one connection, keeping up to `window` in flight, and returns every
 * reply line (CR/LF stripped) in order. For setting up data: AC ×90,000, SET ×1,000.
 */
export async function pipeline(host: string, port: number, lines: readonly string[], window = 256): Promise<string[]> {
  const socket = await open(host, port);
  const replies: string[] = [];
  let next = 0;
  let buffered = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const sendUpTo = (limit: number) => {
        let out = "";
        while (next < lines.length && next < limit) out += `${lines[next++]}\r\n`;
        if (out !== "") socket.write(out);
      };
      socket.setEncoding("utf8");
      socket.on("data", (text: string) => {
        buffered += text;
        let lf: number;
        while ((lf = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, lf).trim();
          buffered = buffered.slice(lf + 1);
          if (line !== "") replies.push(line);
        }
        if (replies.length === lines.length) resolve();
        else sendUpTo(replies.length + window);
      });
      socket.on("error", reject);
      socket.on("close", () => reject(new Error(`${host}:${port} closed after ${replies.length}/${lines.length} replies`)));
      if (lines.length === 0) resolve();
      else sendUpTo(window);
    });
  } finally {
    socket.destroy();
  }
  return replies;
}

/** A sequential request/reply client: one line out, one line back. */
export class LineClient {
  readonly #socket: Socket;
  #buffered = "";
  #waiter: ((line: string) => void) | undefined;
  #failure: ((error: Error) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      this.#buffered += text;
      let lf: number;
      while ((lf = this.#buffered.indexOf("\n")) >= 0) {
        const line = this.#buffered.slice(0, lf).trim();
        this.#buffered = this.#buffered.slice(lf + 1);
        if (line === "") continue;
        const waiter = this.#waiter;
        this.#waiter = undefined;
        this.#failure = undefined;
        waiter?.(line);
      }
    });
    socket.on("error", (error) => this.#failure?.(error));
    socket.on("close", () => this.#failure?.(new Error("connection closed")));
  }

  /** Connects. */
  static async connect(host: string, port: number): Promise<LineClient> {
    return new LineClient(await open(host, port));
  }

  /** Sends `line` + CR LF and resolves with the reply line. */
  request(line: string, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${line} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiter = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.#failure = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.#socket.write(`${line}\r\n`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
