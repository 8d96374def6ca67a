/**
 * The `bank` command line: help, version, exit codes, config validation, flags over the config file,
 * and what a missing config file means. Addresses: 127.0.0.16–127.0.0.19, ports 65525 and 65530–65532.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { BankClient, bankCommand, BankProcess, runBank, testDir } from "../helpers/bank_process.ts";
import { startFakePeer } from "../helpers/fake_peer.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

const children: ChildProcess[] = [];
/** Kills what is still running (called per describe: deno test --filter skips a file-level after). */
function cleanup(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
after(cleanup);

const tempDir = (): string => testDir("bank-cli-");

/** Writes a config file (data and log inside the dir) and returns its path. */
function configFile(values: Record<string, unknown>, dir = tempDir()): string {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ data: join(dir, "data/bank.db"), log: join(dir, "logs/bank.log"), ...values }));
  return file;
}

/** Runs `bank serve --config <file>` with a config that must be refused; its exit code and stderr lines. */
async function refusedConfig(values: Record<string, unknown>, extra: string[] = []) {
  const file = configFile({ host: "127.0.0.16", port: 65530, ...values });
  const result = await runBank(["serve", "--config", file, ...extra], { cwd: tempDir(), timeoutMs: 10_000 });
  return { ...result, lines: result.stderr.split("\n").filter((l) => l.trim() !== "") };
}

/** Starts `bank serve …` in `cwd` and resolves once it listens. */
function serveIn(cwd: string, args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const { command, args: prefix } = bankCommand();
  const child = spawn(command, [...prefix, "serve", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`bank did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes("listening on")) {
        clearTimeout(timer);
        resolvePromise({ child, output: () => output });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bank exited with ${code} before listening:\n${output}`));
    });
  });
}

function terminate(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // process.kill, not child.kill: under `deno test`, child.kill() makes the exit code read null.
  process.kill(child.pid!, signal);
  return exited;
}

describe("bank CLI", () => {
  after(cleanup);
  it("prints help with --help and exits 0", async () => {
    const { code, stdout } = await runBank(["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: bank/);
    assert.match(stdout, /serve/);
    const serve = await runBank(["serve", "--help"]);
    assert.equal(serve.code, 0);
    for (const option of ["--config", "--host", "--port"]) assert.ok(serve.stdout.includes(option), `serve --help lacks ${option}`);
  });

  it("prints the package.json version with --version and exits 0", async () => {
    const { code, stdout } = await runBank(["--version"]);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), VERSION);
  });

  it("exits 2 with one line on an unknown option or command", async () => {
    for (const args of [["--bogus"], ["serve", "--bogus"], ["bogus"]]) {
      const { code, stdout, stderr } = await runBank(args);
      assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
      const lines = stderr.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 1, `${args.join(" ")}: ${stderr}`);
      assert.ok(lines[0]!.includes(args.at(-1)!), `${args.join(" ")}: the line should name it: ${lines[0]}`);
      assert.equal(stdout, "");
    }
  });

  it("exits 2 naming the key for a port outside 65525-65535", async () => {
    const { code, lines, stdout } = await refusedConfig({ port: 80 });
    assert.equal(code, 2, lines.join("\n"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /port/);
    assert.ok(!stdout.includes("listening"));
  });

  it("exits 2 naming the key for an unknown config key", async () => {
    const { code, lines } = await refusedConfig({ colour: "blue" });
    assert.equal(code, 2, lines.join("\n"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /colour/);
  });

  it("exits 2 naming the key for language \"de\"", async () => {
    const { code, lines } = await refusedConfig({ language: "de" });
    assert.equal(code, 2, lines.join("\n"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /language/);
  });

  it("exits 2 naming the key for other bad values", async () => {
    for (const [key, value] of [["port", "65530"], ["host", "localhost"], ["timeout", -1], ["client_time_out", 0], ["max_connections", 0]] as const) {
      const { code, lines } = await refusedConfig({ [key]: value });
      assert.equal(code, 2, `${key}=${JSON.stringify(value)}: ${lines.join("\n")}`);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.ok(lines[0]!.includes(key), `${key}: ${lines[0]}`);
    }
  });

  it("exits 2 for a bad --port flag", async () => {
    for (const port of ["80", "abc"]) {
      const { code, lines } = await refusedConfig({}, ["--port", port]);
      assert.equal(code, 2, lines.join("\n"));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /port/);
    }
  });

  it("exits 2 naming the key for a null value instead of taking the default", async () => {
    const { code, lines } = await refusedConfig({ port: null });
    assert.equal(code, 2, lines.join("\n"));
    assert.match(lines[0]!, /config key "port" has invalid value null/);
  });

  it("names the flag, not a config key, for a bad flag value", async () => {
    const port = await runBank(["serve", "--port", "70000"], { cwd: tempDir() });
    assert.equal(port.code, 2, port.stderr);
    assert.match(port.stderr, /^bank: option '--port <n>' argument '70000' is invalid/);
    const subnet = await runBank(["scan", "--subnet", "10.0.0.0/8"], { cwd: tempDir() });
    assert.equal(subnet.code, 2, subnet.stderr);
    assert.match(subnet.stderr, /^bank: option '--subnet <cidr>' argument '10\.0\.0\.0\/8' is invalid/);
    assert.doesNotMatch(`${port.stderr}${subnet.stderr}`, /config key/);
  });

  it("lists only the options that mean something for scan and plan", async () => {
    for (const command of ["scan", "plan"]) {
      const { code, stdout } = await runBank([command, "--help"]);
      assert.equal(code, 0);
      for (const option of ["--config", "--subnet", "--json", "--bank-code"]) assert.ok(stdout.includes(option), `${command} --help lacks ${option}`);
      for (const option of ["--host", "--port", "--data"]) assert.ok(!stdout.includes(option), `${command} --help lists ${option}`);
    }
  });

  it("exits 1 naming the data path when --data is a folder", async () => {
    const folder = tempDir();
    const { code, stderr } = await runBank(["serve", "--config", configFile({ host: "127.0.0.16", port: 65530 }), "--data", folder], {
      cwd: tempDir(),
    });
    assert.equal(code, 1, stderr);
    assert.ok(stderr.includes(folder), stderr);
    assert.match(stderr, /is a folder; name a file in it/);
  });

  it("takes relative data and log paths in a config file from the file's folder", async () => {
    const confDir = tempDir();
    const file = join(confDir, "config.json");
    writeFileSync(file, JSON.stringify({ host: "127.0.0.17", port: 65531, data: "./store/bank.db", log: "logs/bank.log" }));
    const elsewhere = tempDir();
    const { child, output } = await serveIn(elsewhere, ["--config", file]);
    try {
      const c = await BankClient.connect("127.0.0.17", 65531);
      assert.match(await c.request("AC"), /^AC 10000\//);
      c.close();
      // The start line names the files, so a wrong folder is seen at once.
      assert.ok(output().includes(join(confDir, "store/bank.db")), output());
      assert.ok(output().includes(join(confDir, "logs/bank.log")), output());
    } finally {
      assert.equal(await terminate(child), 0);
    }
    assert.ok(existsSync(join(confDir, "store/bank.db")), "the data is beside the config file");
    assert.ok(existsSync(join(confDir, "logs/bank.log")), "the log is beside the config file");
    assert.ok(!existsSync(join(elsewhere, "store")) && !existsSync(join(elsewhere, "logs")), "nothing in the working folder");
  });

  it("speaks Czech in bank plan with language cs", async () => {
    const file = configFile({ host: "127.0.0.16", port: 65530, language: "cs", scan_subnet: "127.0.0.16/32", scan_time_out: 0.05 });
    const { code, stdout, stderr } = await runBank(["plan", "1000", "--config", file], { cwd: tempDir() });
    assert.equal(code, 1, stderr);
    assert.equal(stdout.trim(), "Částku 1000 nelze získat: celá síť má jen 0 (0 klientů).");
    assert.match(stderr, /no bank answered on 127\.0\.0\.16\/32, ports 65525–65535 \(11 probes\)/);
  });

  it("stops at once on a second Ctrl+C while the first is still finishing commands", async () => {
    // A bank that answers BC and nothing else keeps a forward, and so the shutdown, waiting.
    const silent = await startFakePeer({ host: "127.0.0.19", port: 65532, respond: (line) => (line === "BC" ? "BC 127.0.0.19" : null) });
    try {
      const cwd = tempDir();
      configFile({ host: "127.0.0.18", port: 65531, timeout: 20 }, cwd);
      const { child, output } = await serveIn(cwd, []);
      const c = await BankClient.connect("127.0.0.18", 65531);
      c.write("AD 10001/127.0.0.19 5\r\n");
      await new Promise((r) => setTimeout(r, 300));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      process.kill(child.pid!, "SIGINT");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(child.exitCode, null, "the first Ctrl+C waits for the forward in progress");
      const started = performance.now();
      process.kill(child.pid!, "SIGINT");
      assert.equal(await exited, 1);
      assert.ok(performance.now() - started < 2000, "the second Ctrl+C did not stop it at once");
      assert.match(output(), /SIGINT again: stopping at once/);
      c.close();
    } finally {
      await silent.close();
    }
  });

  it("exits 2 naming the file for a config file that is not JSON", async () => {
    const dir = tempDir();
    const file = join(dir, "config.json");
    writeFileSync(file, "{ host: 127.0.0.16 ");
    const { code, stderr } = await runBank(["serve", "--config", file], { cwd: dir });
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(file), stderr);
  });

  it("exits 2 when --config names a file that does not exist", async () => {
    const { code, stderr } = await runBank(["serve", "--config", "/nonexistent/bank-config.json"], { cwd: tempDir() });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /nonexistent\/bank-config\.json/);
  });

  it("lets flags override the config file", async () => {
    const bank = new BankProcess({ host: "127.0.0.16", port: 65530, language: "en" });
    const data = join(bank.dir, "elsewhere/ledger.db");
    await bank.start(["--port", "65531", "--bank-code", "10.20.30.40", "--data", data]);
    try {
      assert.match(bank.output, /listening on 127\.0\.0\.16:65531/);
      const c = await BankClient.connect("127.0.0.16", 65531);
      assert.equal(await c.request("BC"), "BC 10.20.30.40");
      assert.equal(await c.request("AC"), "AC 10000/10.20.30.40");
      assert.equal(await c.request("AD 10000/10.20.30.40 5"), "AD");
      assert.equal(await c.request("AB 10000/10.20.30.40"), "AB 5");
      c.close();
      await assert.rejects(BankClient.connect("127.0.0.16", 65530), "the config file's port must not be used");
    } finally {
      assert.equal(await bank.stop(), 0);
    }
    assert.ok(existsSync(data), "--data names the snapshot file");
    assert.ok(!existsSync(join(bank.dir, "data/bank.db")), "the config file's data path must not be used");
  });

  it("runs on defaults when there is no config.json and --config is not given", async () => {
    const cwd = tempDir();
    const { child, output } = await serveIn(cwd, ["--host", "127.0.0.17"]);
    try {
      // The default port is 65525 and the default data file ./data/bank.db.
      assert.match(output(), /listening on 127\.0\.0\.17:65525/);
      const c = await BankClient.connect("127.0.0.17", 65525);
      assert.equal(await c.request("BC"), "BC 127.0.0.17");
      assert.match(await c.request("AC"), /^AC 10000\/127\.0\.0\.17$/);
      assert.match(await c.request("XX"), /^ER Unknown command/, "the default language is English");
      c.close();
    } finally {
      assert.equal(await terminate(child), 0);
    }
    assert.ok(existsSync(join(cwd, "data/bank.db")), "the default data file is ./data/bank.db");
  });

  it("reads ./config.json when --config is not given", async () => {
    const cwd = tempDir();
    configFile({ host: "127.0.0.18", port: 65530, language: "cs" }, cwd);
    const { child } = await serveIn(cwd, []);
    try {
      const c = await BankClient.connect("127.0.0.18", 65530);
      assert.equal(await c.request("BC"), "BC 127.0.0.18");
      assert.match(await c.request("XX"), /^ER Neznámý příkaz/);
      c.close();
    } finally {
      assert.equal(await terminate(child, "SIGINT"), 0, "Ctrl-C stops the bank cleanly");
    }
  });

  it("exits 1 with one clear line when the port is taken", async () => {
    const first = new BankProcess({ host: "127.0.0.16", port: 65530 });
    await first.start();
    try {
      const { code, stderr } = await runBank(["serve", "--config", configFile({ host: "127.0.0.16", port: 65530 })], { cwd: tempDir() });
      assert.equal(code, 1, stderr);
      const lines = stderr.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, /127\.0\.0\.16:65530|in use/);
    } finally {
      await first.stop();
    }
  });
});
