/**
 * Starts the built bank as a real process on 127.0.0.x for end-to-end tests, and talks to it over TCP.
 * BANK_RUNTIME picks the packaging under test: "node" (default: node dist/bank.mjs), "deno"
 * (deno run -A dist/bank.mjs), "binary" (the single executable dist/bank) or "wine" (wine dist/bank.exe, with
 * WINEPREFIX default .wine/ in the checkout; see .ci/run).
 * Under Wine, Node's stdio fails with EBADF on pipes, so the process writes to files that are read back.
 */
import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");

/** The runtime chosen by BANK_RUNTIME. */
export const RUNTIME = process.env.BANK_RUNTIME ?? "node";

/** The environment of a bank process: for Wine, the prefix and no debug chatter. */
export const bankEnv: NodeJS.ProcessEnv = RUNTIME === "wine"
  ? { ...process.env, WINEPREFIX: process.env.WINEPREFIX ?? join(ROOT, ".wine"), WINEDEBUG: "-all" }
  : process.env;

/** The command that runs the bank under the runtime chosen by BANK_RUNTIME. */
export function bankCommand(runtime = RUNTIME): { command: string; args: string[] } {
  switch (runtime) {
    case "deno":
      return { command: join(ROOT, "node_modules/.bin/deno"), args: ["run", "-A", join(ROOT, "dist/bank.mjs")] };
    case "binary":
      return { command: join(ROOT, "dist/bank"), args: [] };
    case "wine":
      return { command: "wine", args: [join(ROOT, "dist/bank.exe")] };
    default:
      // "node" from PATH, not process.execPath: under `deno test` that would be deno.
      return { command: "node", args: [join(ROOT, "dist/bank.mjs")] };
  }
}

/** Runs a one-shot `bank …` to its end; stdout, stderr and exit code. */
export function runBank(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; command?: { command: string; args: string[] } } = {},
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
}> {
  const { command, args: prefix } = options.command ?? bankCommand();
  const output = new OutputFiles();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: options.cwd ?? ROOT, stdio: output.stdio, env: bankEnv });
    output.started();
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout: stdout + output.read("stdout"), stderr: stderr + output.read("stderr") });
      output.remove();
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

/** Pipes for stdout and stderr, or under Wine two files in a temporary folder (Wine's pipes give Node EBADF). */
class OutputFiles {
  readonly #dir = RUNTIME === "wine" ? mkdtempSync(join(tmpdir(), "bank-out-")) : undefined;
  readonly #fds: number[] = [];
  readonly stdio: StdioOptions;

  constructor() {
    if (this.#dir === undefined) {
      this.stdio = ["ignore", "pipe", "pipe"];
      return;
    }
    this.#fds = [openSync(join(this.#dir, "stdout"), "w"), openSync(join(this.#dir, "stderr"), "w")];
    this.stdio = ["ignore", this.#fds[0]!, this.#fds[1]!];
  }

  /** The child has its own copies of the descriptors now. */
  started(): void {
    for (const fd of this.#fds.splice(0)) closeSync(fd);
  }

  /** What the process wrote to that file so far ("" with pipes, which arrive as events). */
  read(name: "stdout" | "stderr"): string {
    return this.#dir === undefined ? "" : readFileSync(join(this.#dir, name), "utf8");
  }

  remove(): void {
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Config keys for a test bank (snake_case, as in config.json). */
export type BankConfig = Record<string, unknown> & { host: string; port: number };

/** A bank process under test. */
export class BankProcess {
  readonly dir: string;
  readonly config: BankConfig;
  #child: ChildProcess | undefined;
  #output = "";
  #readOutput = () => "";
  readonly #command: { command: string; args: string[] };

  /**
   * Writes a config file into a fresh directory (or `dir`, to restart on the same data). `command` overrides
   * BANK_RUNTIME for this bank (a Linux bank beside a Windows one).
   */
  constructor(config: BankConfig, dir?: string, command: { command: string; args: string[] } = bankCommand()) {
    this.#command = command;
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
    return this.#output + this.#readOutput();
  }

  /**
   * Starts `serve --config <dir>/config.json <extraArgs>` and resolves once it listens. `bare` starts it with
   * `extraArgs` only, from the folder `cwd` (default: its dir).
   */
  async start(extraArgs: string[] = [], options: { bare?: boolean; cwd?: string } = {}): Promise<this> {
    const { command, args } = this.#command;
    const output = new OutputFiles();
    const serve = options.bare ? [] : ["serve", "--config", join(this.dir, "config.json")];
    const child = spawn(command, [...args, ...serve, ...extraArgs], {
      cwd: options.cwd ?? this.dir,
      stdio: output.stdio,
      env: bankEnv,
    });
    output.started();
    this.#child = child;
    this.#readOutput = () => output.read("stdout") + output.read("stderr");
    child.once("close", () => {
      this.#output += this.#readOutput();
      this.#readOutput = () => "";
      output.remove();
    });
    await new Promise<void>((resolvePromise, reject) => {
      let poll: ReturnType<typeof setInterval> | undefined;
      const done = (error?: Error) => {
        clearTimeout(timer);
        clearInterval(poll);
        if (error) reject(error);
        else resolvePromise();
      };
      const timer = setTimeout(() => done(new Error(`bank did not start:\n${this.output}`)), 30_000);
      const check = () => {
        if (this.output.includes("listening on")) done();
      };
      const onData = (data: Buffer) => {
        this.#output += data.toString();
        check();
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      if (RUNTIME === "wine") poll = setInterval(check, 50);
      child.once("exit", (code) => {
        done(new Error(`bank exited with ${code} before listening:\n${this.output}`));
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
    // Windows has no SIGTERM: its way to ask a console program to stop is Ctrl+C, which Wine makes of SIGINT.
    process.kill(child.pid!, signal === "SIGTERM" && this.#command.command === "wine" ? "SIGINT" : signal);
    return exited;
  }

  /** The process id (under Wine, the Linux process that is the Windows program). */
  get pid(): number | undefined {
    return this.#child?.pid;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL if the bank has not exited within `ms`; the exit code, or "hung". */
export async function stopWithin(bank: BankProcess, ms = 5000): Promise<number | null | "hung"> {
  const code = await Promise.race([bank.stop("SIGTERM"), sleep(ms).then(() => "hung" as const)]);
  if (code === "hung") await bank.stop("SIGKILL");
  return code;
}

/** The banks and clients one test file starts, so that one call closes the clients and another stops the banks. */
export class TestBanks {
  /** Banks started and not yet stopped; a test that stops one itself takes it out with `forget`. */
  readonly banks: BankProcess[] = [];
  readonly #clients: BankClient[] = [];
  readonly #defaults: Partial<BankConfig>;

  /** `defaults`: config keys every bank of the file shares (a port, say). */
  constructor(defaults: Partial<BankConfig> = {}) {
    this.#defaults = defaults;
  }

  /** Starts a bank with the defaults and `config`; resolves once it listens. */
  async start(config: Record<string, unknown> & { host: string }): Promise<BankProcess> {
    const bank = new BankProcess({ ...this.#defaults, ...config } as BankConfig);
    this.banks.push(bank);
    return await bank.start();
  }

  /** A new client of `bank`, closed by `closeClients`. */
  async client(bank: BankProcess): Promise<BankClient> {
    const c = await bank.client();
    this.#clients.push(c);
    return c;
  }

  /** Stops keeping track of a bank the test stops itself. */
  forget(bank: BankProcess): void {
    if (this.banks.includes(bank)) this.banks.splice(this.banks.indexOf(bank), 1);
  }

  /** Closes every client opened so far (after each test). */
  closeClients(): void {
    for (const c of this.#clients.splice(0)) c.close();
  }

  /** Stops every bank started so far (SIGKILL after 5 s) and removes its folder. */
  async stopAll(): Promise<void> {
    for (const bank of this.banks.splice(0)) {
      await stopWithin(bank);
      rmSync(bank.dir, { recursive: true, force: true });
    }
  }
}
