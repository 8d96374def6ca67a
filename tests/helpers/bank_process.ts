/**
 * Starts the built bank as a real process on 127.0.0.x for end-to-end tests, and talks to it over TCP.
 * BANK_RUNTIME picks the packaging under test: "node" (default: node dist/bank.mjs), "deno"
 * (deno run -A dist/bank.mjs) or "binary" (the single executable dist/bank).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");

/** The command that runs the bank under the runtime chosen by BANK_RUNTIME. */
export function bankCommand(): { command: string; args: string[] } {
  switch (process.env.BANK_RUNTIME ?? "node") {
    case "deno":
      return { command: join(ROOT, "node_modules/.bin/deno"), args: ["run", "-A", join(ROOT, "dist/bank.mjs")] };
    case "binary":
      return { command: join(ROOT, "dist/bank"), args: [] };
    default:
      // "node" from PATH, not process.execPath: under `deno test` that would be deno.
      return { command: "node", args: [join(ROOT, "dist/bank.mjs")] };
  }
}

/** Runs a one-shot `bank …` to its end; stdout, stderr and exit code. */
export function runBank(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
}> {
  const { command, args: prefix } = bankCommand();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: options.cwd ?? ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Folders made for banks under test: removed when the test process exits, whatever its tests did. */
const madeDirs = new Set<string>();
process.on("exit", () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder that is removed when the test process exits. */
export function testDir(prefix = "bank-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.add(dir);
  return dir;
}

/** Config keys for a test bank (snake_case, as in config.json). */
export type BankConfig = Record<string, unknown> & { host: string; port: number };

/** A bank process under test. */
export class BankProcess {
  readonly dir: string;
  readonly config: BankConfig;
  #child: ChildProcess | undefined;
  #output = "";

  /** Writes a config file into a fresh directory (or `dir`, to restart on the same data). */
  constructor(config: BankConfig, dir?: string) {
    this.dir = dir ?? testDir();
    this.config = {
      data: join(this.dir, "data/bank.db"),
      log: join(this.dir, "logs/bank.log"),
      scan_time_out: 0.2,
      timeout: 1,
      ...config,
    };
    writeFileSync(join(this.dir, "config.json"), JSON.stringify(this.config, null, 2));
  }

  get host(): string {
    return this.config.host;
  }
  get port(): number {
    return this.config.port;
  }
  /** Everything the process printed. */
  get output(): string {
    return this.#output;
  }

  /** Starts the process and resolves once it listens. */
  async start(extraArgs: string[] = []): Promise<this> {
    const { command, args } = bankCommand();
    const child = spawn(command, [...args, "serve", "--config", join(this.dir, "config.json"), ...extraArgs], {
      cwd: this.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`bank did not start:\n${this.#output}`)), 20_000);
      const onData = (data: Buffer) => {
        this.#output += data.toString();
        if (this.#output.includes("listening on")) {
          clearTimeout(timer);
          resolvePromise();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`bank exited with ${code} before listening:\n${this.#output}`));
      });
    });
    return this;
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    // process.kill, not child.kill: under `deno test`, child.kill() makes the exit code read null even when it was 0.
    process.kill(child.pid!, signal);
    return exited;
  }

  /** kill -9: no chance to write anything. */
  kill9(): Promise<number | null> {
    return this.stop("SIGKILL");
  }

  /** A new TCP client of this bank. */
  client(): Promise<BankClient> {
    return BankClient.connect(this.host, this.port);
  }
}

/** A line-oriented TCP client: send lines, read reply lines. */
export class BankClient {
  readonly socket: Socket;
  #buffer = "";
  #lines: string[] = [];
  #waiters: ((line: string | undefined) => void)[] = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      this.#buffer += data;
      let i: number;
      while ((i = this.#buffer.indexOf("\r\n")) >= 0) {
        this.#push(this.#buffer.slice(0, i));
        this.#buffer = this.#buffer.slice(i + 2);
      }
    });
    socket.on("close", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
    socket.on("error", () => {});
  }

  /** Connects to a bank. */
  static connect(host: string, port: number): Promise<BankClient> {
    return new Promise((resolvePromise, reject) => {
      const socket = connect({ host, port }, () => {
        socket.off("error", reject);
        resolvePromise(new BankClient(socket));
      });
      socket.once("error", reject);
    });
  }

  #push(line: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(line);
    else this.#lines.push(line);
  }

  /** Writes raw bytes or text as they are. */
  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** The next reply line (without CR LF); undefined when the connection closed first. */
  readLine(timeoutMs = 5000): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (l: string | undefined) => {
        clearTimeout(timer);
        resolvePromise(l);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Sends one command line (CR LF added) and returns its reply. */
  async request(line: string, timeoutMs?: number): Promise<string> {
    this.write(`${line}\r\n`);
    const reply = await this.readLine(timeoutMs);
    if (reply === undefined) throw new Error(`connection closed before a reply to ${line}`);
    return reply;
  }

  /** Resolves when the server closes the connection. */
  closed(): Promise<void> {
    return this.#closed ? Promise.resolve() : new Promise((r) => this.socket.once("close", () => r()));
  }

  close(): void {
    this.socket.destroy();
  }
}
