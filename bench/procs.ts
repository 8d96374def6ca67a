/** Starting and stopping the processes the benchmark measures: bank nodes and redis-server. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { LineClient } from "./loadgen.ts";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
/** The bundle under test; BENCH_BUNDLE may point at another build to compare. */
export const BUNDLE = process.env.BENCH_BUNDLE ?? join(ROOT, "dist/bank.mjs");

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

/** A fresh temporary directory, removed by cleanUp() unless BENCH_KEEP=1. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bank-bench-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Kills every child still running (SIGKILL) and removes the temp dirs. */
export function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
  if (process.env.BENCH_KEEP !== "1") for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Waits for a child to exit; SIGKILL after `timeoutMs`. */
function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CLOCK_TICKS = (() => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  return Number(result.stdout?.trim()) || 100;
})();

/** Context switches (voluntary and not, all threads) a process has made so far; NaN when they cannot be read. */
export function contextSwitches(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    let total = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      for (const match of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) total += Number(match[1]);
    }
    return total;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in ms; NaN when it cannot be read. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), from field 3 on; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * Polls host:port until a TCP connect succeeds and `request` is answered with a line starting with
 * `expect`; resolves with the milliseconds since `since`. Rejects when `child` exits first or on timeout.
 */
export async function waitForService(
  options: { host: string; port: number; request: string; expect: string; since: number; child: ChildProcess; timeoutMs?: number },
): Promise<number> {
  const deadline = options.since + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (options.child.exitCode !== null || options.child.signalCode !== null) {
      throw new Error(`process exited (${options.child.exitCode ?? options.child.signalCode}) before answering`);
    }
    try {
      const client = await LineClient.connect(options.host, options.port);
      try {
        const reply = await client.request(options.request, 10_000);
        if (reply.startsWith(options.expect)) return performance.now() - options.since;
        throw new Error(`unexpected reply ${JSON.stringify(reply)} to ${options.request}`);
      } finally {
        client.close();
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("unexpected reply")) throw error;
    }
    if (performance.now() > deadline) throw new Error(`${options.host}:${options.port} did not answer in time`);
    await sleep(2);
  }
}

/** Bank config keys, snake_case as in config.json. */
export type BankSettings = Record<string, unknown> & { host: string; port: number };

/** A running bank process. */
export class BankNode {
  readonly dir: string;
  readonly config: BankSettings;
  readonly configPath: string;
  #child: ChildProcess | undefined;
  #output = "";
  /** Spawn to first answered BC, of the last start. */
  startMs = NaN;

  /** Writes the config into `dir` (a fresh temp dir by default; pass one to restart on the same data). */
  constructor(settings: BankSettings, dir?: string) {
    this.dir = dir ?? tempDir(`bank-${settings.host}`);
    this.config = { data: join(this.dir, "data/bank.db"), log: join(this.dir, "logs/bank.log"), ...settings };
    this.configPath = join(this.dir, "config.json");
    writeFileSync(this.configPath, JSON.stringify(this.config, null, 2));
  }

  get host(): string {
    return this.config.host;
  }
  get port(): number {
    return this.config.port;
  }
  get code(): string {
    return (this.config.bank_code as string | undefined) ?? this.config.host;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get dataPath(): string {
    return this.config.data as string;
  }
  get logPath(): string {
    return this.config.log as string;
  }
  get output(): string {
    return this.#output;
  }

  /** Spawns `node [nodeArgs] bundle serve --config …` and resolves once BC is answered; sets startMs. */
  async start(nodeArgs: string[] = [], bundle = BUNDLE): Promise<this> {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, bundle, "serve", "--config", this.configPath], {
      cwd: this.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    this.#child = child;
    child.stdout!.on("data", (d) => (this.#output += d));
    child.stderr!.on("data", (d) => (this.#output += d));
    try {
      this.startMs = await waitForService({ host: this.host, port: this.port, request: "BC", expect: "BC ", since: started, child });
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`bank on ${this.host}:${this.port} did not start: ${(error as Error).message}\n${this.#output}`);
    }
    return this;
  }

  /** Sends SIGTERM; resolves with the exit code and the milliseconds from signal to exit. */
  async stop(timeoutMs = 60_000): Promise<{ code: number | null; ms: number }> {
    const child = this.#child;
    if (child === undefined) return { code: null, ms: 0 };
    const started = performance.now();
    const done = exited(child, timeoutMs);
    child.kill("SIGTERM");
    const code = await done;
    return { code, ms: performance.now() - started };
  }

  /** VmRSS and VmHWM of the process in KiB, from /proc/<pid>/status. */
  memory(): { rssKiB: number; hwmKiB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
  }

  /** The `properties` of every JSON log line whose event is `event`. */
  logEvents(event: string): Record<string, unknown>[] {
    let text: string;
    try {
      text = readFileSync(this.logPath, "utf8");
    } catch {
      return [];
    }
    const found: Record<string, unknown>[] = [];
    for (const line of text.split("\n")) {
      if (!line.includes(`"${event}"`)) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        const props = (record.properties ?? record) as Record<string, unknown>;
        if (props.event === event) found.push(props);
      } catch {
        // A partly written last line.
      }
    }
    return found;
  }
}

/** The version of redis-server on PATH, or undefined when there is none. */
export function redisVersion(): string | undefined {
  const result = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return /v=(\S+)/.exec(result.stdout)?.[1] ?? result.stdout.trim();
}

/** A redis-server with AOF on, in a fresh directory, bound to one loopback address. */
export class RedisNode {
  readonly host: string;
  readonly port: number;
  readonly fsync: "always" | "everysec";
  readonly dir: string;
  #child: ChildProcess | undefined;
  #output = "";

  constructor(host: string, port: number, fsync: "always" | "everysec") {
    this.host = host;
    this.port = port;
    this.fsync = fsync;
    this.dir = tempDir(`redis-${fsync}`);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<this> {
    const args = [
      "--port", String(this.port),
      "--bind", this.host,
      "--dir", this.dir,
      "--appendonly", "yes",
      "--appendfsync", this.fsync,
      "--save", "",
      "--daemonize", "no",
      "--logfile", "",
    ];
    const started = performance.now();
    const child = spawn("redis-server", args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    this.#child = child;
    child.stdout!.on("data", (d) => (this.#output += d));
    child.stderr!.on("data", (d) => (this.#output += d));
    try {
      await waitForService({ host: this.host, port: this.port, request: "PING", expect: "+PONG", since: started, child, timeoutMs: 15_000 });
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`redis-server on ${this.host}:${this.port} did not start: ${(error as Error).message}\n${this.#output}`);
    }
    return this;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const done = exited(child, 15_000);
    child.kill("SIGTERM");
    await done;
  }
}

/** Runs `node bundle <args>` to its end; exit code, output and wall time. */
export function runBundle(args: string[], cwd: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BUNDLE, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
