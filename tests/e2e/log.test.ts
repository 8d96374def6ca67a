/**
 * The log file as an operator reads it: every line names its process (serve, scan, plan) and pid,
 * a failed start is logged, and the file is rotated by size without losing a line.
 * Addresses: 127.0.0.44–127.0.0.45, port 65531.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BankProcess, runBank } from "../helpers/bank_process.ts";
import { LOG_MAX_BYTES } from "../../src/log.ts";

const HOST = "127.0.0.44";
const PORT = 65531;

const dirs: string[] = [];
const banks: BankProcess[] = [];
/** Stops what still runs and removes the dirs (per describe: deno test --filter skips a file-level after). */
async function cleanup(): Promise<void> {
  for (const bank of banks.splice(0)) await bank.kill9();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
after(cleanup);

function startedBank(config: Record<string, unknown> = {}): Promise<BankProcess> {
  const bank = new BankProcess({ host: HOST, port: PORT, ...config });
  dirs.push(bank.dir);
  banks.push(bank);
  return bank.start();
}

interface LogLine {
  readonly level: string;
  readonly logger: string;
  readonly process: string;
  readonly pid: number;
  readonly event?: string;
  readonly request?: string;
  readonly error?: string;
}

/** Every line of a log file, each parsed (a line that is not JSON fails the test). */
function logLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as LogLine);
}

const logOf = (bank: BankProcess) => bank.config.log as string;

describe("log lines name their process", { timeout: 60_000 }, () => {
  after(cleanup);

  it("tells the server's lines from a `bank scan` run with the same config, each with its pid", async () => {
    const bank = await startedBank();
    const client = await bank.client();
    assert.equal(await client.request("BC"), `BC ${HOST}`);
    client.close();
    const scan = await runBank(["scan", "--subnet", `${HOST}/32`, "--config", join(bank.dir, "config.json")], { cwd: bank.dir });
    assert.equal(scan.code, 0, scan.stderr);
    assert.equal(await bank.stop(), 0);
    const lines = logLines(logOf(bank));
    const serve = lines.filter((l) => l.process === "serve");
    const scanning = lines.filter((l) => l.process === "scan");
    assert.equal(serve.length + scanning.length, lines.length, "every line names serve or scan");
    assert.ok(serve.some((l) => l.event === "command" && l.request === "BC"), "the server logged the command");
    assert.ok(scanning.length > 0, "the scan logged to the same file");
    assert.equal(new Set(serve.map((l) => l.pid)).size, 1, "one pid for the server");
    assert.equal(new Set(scanning.map((l) => l.pid)).size, 1, "one pid for the scan");
    assert.notEqual(serve[0]!.pid, scanning[0]!.pid);
    assert.ok(Number.isInteger(serve[0]!.pid) && serve[0]!.pid > 0);
  });

  it("logs a start that fails (the port is taken), not only on stderr", async () => {
    const bank = await startedBank();
    const dir = mkdtempSync(join(tmpdir(), "bank-log-"));
    dirs.push(dir);
    const log = join(dir, "bank.log");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ host: HOST, port: PORT, data: join(dir, "bank.db"), log }));
    const second = await runBank(["serve", "--config", join(dir, "config.json")], { cwd: dir });
    assert.equal(second.code, 1, second.stderr);
    const failed = logLines(log).filter((l) => l.event === "failed");
    assert.equal(failed.length, 1, readFileSync(log, "utf8"));
    assert.equal(failed[0]!.process, "serve");
    assert.equal(failed[0]!.level, "fatal");
    assert.ok(second.stderr.includes(failed[0]!.error!), `stderr and log say the same: ${second.stderr}`);
    assert.equal(await bank.stop(), 0);
  });
});

describe("the log is rotated by size", { timeout: 120_000 }, () => {
  after(cleanup);

  it("moves a full log to <log>.1 and goes on in a new file, losing no line", async () => {
    const bank = await startedBank({ host: "127.0.0.45" });
    const client = await bank.client();
    // Long unknown commands: each is logged with its whole request, so a few thousand fill the file.
    const request = `X${"y".repeat(4000)}`;
    const count = Math.ceil((LOG_MAX_BYTES * 1.3) / request.length);
    client.write(`${request}\r\n`.repeat(count));
    for (let i = 0; i < count; i++) assert.match((await client.readLine(10_000))!, /^ER /);
    client.close();
    assert.equal(await bank.stop(), 0);
    const live = logOf(bank);
    assert.ok(existsSync(`${live}.1`), "the full log was moved aside");
    assert.ok(!existsSync(`${live}.2`), "one rotation so far");
    assert.ok(statSync(`${live}.1`).size <= LOG_MAX_BYTES, "the rotated file stays within the limit");
    const lines = [...logLines(`${live}.1`), ...logLines(live)];
    assert.equal(lines.filter((l) => l.event === "command" && l.request === request).length, count);
  });
});
