/** The `bank` command line: serve, scan, plan, check. Wiring only. */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import process from "node:process";
import pkg from "../package.json" with { type: "json" };
import { checkConfigValue, type Config, ConfigError, type ConfigKey, loadConfig, type Overrides } from "./config.ts";
import { CorruptStoreError } from "./ledger/ledger.ts";
import { repairLines, repairStore } from "./ledger/repair.ts";
import { logger, type ProcessName, setUpLogging, stopLogging } from "./log.ts";
import { doubleClickStart, exit, onShutdownSignal, waitForEnter } from "./platform.ts";
import { MIN_PLAN_MS, scanOptions, startBank } from "./bank.ts";
import { type ScanResult, scanNetwork } from "./peers/scan.ts";
import { PlanThread } from "./plan/plan_thread.ts";
import { notExactNote, planLine, unreachableLine } from "./protocol/messages.ts";
import { parseAmount } from "./protocol/values.ts";
import { bankTable, nothingFoundLine, planJson, problemLines, scanJson } from "./report.ts";
import { checkCommand, type CheckFlags } from "./check/cli.ts";

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const console_ = logger("console");

/** Checks a flag's value with the config key's own rule, so a bad flag is reported as that flag. */
function flagValue(key: ConfigKey, parse: (text: string) => unknown = (text) => text) {
  return (text: string): unknown => {
    const value = parse(text);
    const problem = checkConfigValue(key, value);
    if (problem !== undefined) throw new InvalidArgumentError(`expected ${problem}.`);
    return value;
  };
}

const toNumber = (text: string): unknown => (/^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : text);

/** Options every subcommand shares: where the config is, our bank code and the log. */
function withCommonOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "config file (default ./config.json; missing means defaults)")
    .addOption(new Option("--bank-code <ip>", "our bank code (default: host)").argParser(flagValue("bank_code")))
    .addOption(new Option("--log <file>", "log file").argParser(flagValue("log")));
}

/** Options of the server: where it listens and where its data is. */
function withServerOptions(command: Command): Command {
  return withCommonOptions(command)
    .addOption(new Option("--host <ip>", "address to listen on").argParser(flagValue("host")))
    .addOption(new Option("--port <n>", "port, 65525–65535").argParser(flagValue("port", toNumber)))
    .addOption(new Option("--data <file>", "snapshot file; the journal is <file>.journal").argParser(flagValue("data")));
}

/** Options of the one-shots that scan. */
function withScanOptions(command: Command): Command {
  return withCommonOptions(command)
    .addOption(new Option("--subnet <cidr>", "subnet to scan (default: the /24 of our bank code)").argParser(flagValue("scan_subnet")))
    .option("--json", "print JSON instead of text");
}

interface ConfigFlags {
  config?: string;
  host?: string;
  port?: number;
  bankCode?: string;
  data?: string;
  log?: string;
}

function configFrom(flags: ConfigFlags, extra: Overrides = {}): Config {
  return loadConfig(flags.config, {
    host: flags.host,
    port: flags.port,
    bank_code: flags.bankCode,
    data: flags.data,
    log: flags.log,
    ...extra,
  });
}

async function serve(flags: ConfigFlags & { monitor?: string }): Promise<void> {
  const config = configFrom(flags, { monitor: flags.monitor });
  await setUpLogging({ file: config.log, process: "serve" });
  const bank = await startBank(config);
  const { recovery } = bank.ledger;
  if (recovery.tornBytes > 0) {
    console_.warn("Journal had a torn tail of {bytes} bytes (a write cut by a crash, never acknowledged); dropped.", {
      bytes: recovery.tornBytes,
    });
  }
  console_.info("bank {code} listening on {host}:{port}, {accounts} accounts loaded from {data}, log {log}", {
    event: "start",
    code: config.bankCode,
    host: config.host,
    port: config.port,
    accounts: recovery.accounts,
    replayed: recovery.replayed,
    data: config.data,
    log: config.log,
  });
  if (config.monitor !== undefined) {
    console_.info("monitor page on http://{host}:{port}/", { event: "monitor", ...config.monitor });
  }
  onShutdownSignal(async (signal) => {
    console_.info("bank {code} stopping on {signal}", { event: "stop", code: config.bankCode, signal });
    try {
      await bank.stop();
      console_.info("bank {code} stopped; snapshot written", { event: "stopped", code: config.bankCode });
      await stopLogging();
      exit(0);
    } catch (error) {
      process.stderr.write(`bank: shutdown failed: ${String(error)}\n`);
      exit(EXIT_FAILURE);
    }
  }, (signal) => {
    // Every acknowledged change is already in the journal: skipping the final snapshot loses nothing.
    process.stderr.write(`bank: ${signal} again: stopping at once, without the final snapshot (the journal has every change)\n`);
    exit(EXIT_FAILURE);
  });
}

async function repair(flags: ConfigFlags): Promise<void> {
  const config = configFrom(flags);
  await setUpLogging({ file: config.log, process: "repair" });
  for (const line of repairLines(await repairStore(config.data))) process.stdout.write(`${line}\n`);
  await stopLogging();
}

interface ScanFlags extends ConfigFlags {
  subnet?: string;
  json?: boolean;
}

/** Scans the subnet, with a progress line on stderr when it is a terminal. */
async function scanFromCli(flags: ScanFlags, name: ProcessName): Promise<{ config: Config; result: ScanResult }> {
  const config = configFrom(flags, { scan_subnet: flags.subnet });
  await setUpLogging({ file: config.log, process: name });
  const tty = process.stderr.isTTY === true;
  const options = scanOptions(config);
  const result = await scanNetwork({
    ...options,
    onProgress: tty
      ? (done, total, found) =>
        process.stderr.write(`\rscanning ${options.subnet}: ${done}/${total} probes, ${found} found\x1b[K`)
      : undefined,
  });
  if (tty) process.stderr.write("\r\x1b[K");
  for (const line of problemLines(result)) process.stderr.write(`${line}\n`);
  if (result.banks.length === 0) process.stderr.write(`${nothingFoundLine(result)}\n`);
  return { config, result };
}

async function scan(flags: ScanFlags): Promise<void> {
  const { result } = await scanFromCli(flags, "scan");
  process.stdout.write(flags.json ? `${scanJson(result)}\n` : `${bankTable(result.banks)}\n`);
  await stopLogging();
}

async function plan(amountText: string, flags: ScanFlags): Promise<void> {
  const target = parseAmount(amountText);
  if (typeof target !== "bigint") {
    throw new InvalidArgumentError(`amount must be an integer 0–9223372036854775807, got '${amountText}'`);
  }
  const started = performance.now();
  // Started first: its threads boot while the network is scanned.
  const planner = new PlanThread();
  // Its threads do not keep the process alive should the scan fail.
  const { config, result } = await scanFromCli(flags, "plan");
  const { language } = config;
  // Like RP: scan and plan together within `timeout`.
  const limit = Math.max(config.timeoutMs - (performance.now() - started), MIN_PLAN_MS);
  const { plan: robbery, ms } = await planner.plan(result.banks, target, limit).finally(() => planner.close());
  if (flags.json) {
    process.stdout.write(`${planJson(robbery, { scanMs: result.ms, planMs: Math.round(ms) })}\n`);
  } else if (robbery.reachable) {
    const sentence = planLine(language, { ...robbery, codes: robbery.banks.map((b) => b.code) }).slice(3);
    const caveat = robbery.exact ? "" : `${notExactNote(language)}\n`;
    process.stdout.write(`${sentence}\n${caveat}\n${bankTable(robbery.banks, "to rob")}\n`);
  } else {
    process.stdout.write(`${unreachableLine(language, target, robbery.amount, robbery.clients).slice(3)}\n`);
  }
  await stopLogging();
  if (!robbery.reachable) exit(EXIT_FAILURE);
}

/** The commander program. */
function program(): Command {
  const root = new Command("bank")
    .description("A node of a peer-to-peer bank network.")
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`bank: ${text.replace(/^error: /, "")}`) });
  withServerOptions(root.command("serve").description("run the bank server (the daemon)"))
    .addOption(
      new Option("--monitor <[host:]port>", "serve the read-only monitor page there (host default 127.0.0.1)").argParser(flagValue("monitor")),
    )
    .action(serve);
  withScanOptions(root.command("scan").description("find every bank on the subnet and print their totals")).action(scan);
  withScanOptions(
    root.command("plan").description("scan, then print which banks to rob to reach <amount> hurting the fewest clients"),
  )
    .argument("<amount>", "the amount to reach")
    .action(plan);
  root.command("check").description("check a bank against the protocol and print a conformance report")
    .argument("<ip[:port]>", "the bank; without a port, 65525–65535 are tried in turn")
    .option("-c, --config <file>", "config file, for timeout and scan_time_out (default ./config.json)")
    .option("--write", "also open one test account, move money through it so it ends at 0, and close it")
    .option("--forward <ip>", "also check forwarding through an account of this other bank")
    .option("--json", "print JSON instead of text")
    .action(async (target: string, flags: CheckFlags) => exit(await checkCommand(target, flags)));
  root.command("repair").description("keep every readable journal record and move damaged bytes aside beside the journal")
    .option("-c, --config <file>", "config file (default ./config.json; missing means defaults)")
    .addOption(new Option("--data <file>", "snapshot file; the journal is <file>.journal").argParser(flagValue("data")))
    .action(repair);
  return root;
}

/** Runs the CLI; maps failures to exit codes with one clear line on stderr. */
export async function main(given: readonly string[]): Promise<void> {
  // In the single executable argv[1] is the executable itself; under node or deno it is dist/bank.mjs.
  const doubleClick = doubleClickStart(given, { programFile: process.argv[1] ?? process.execPath });
  const argv = doubleClick?.args ?? given;
  const fail = async (code: number): Promise<never> => {
    // A double-clicked console window closes with the process: keep the message readable.
    if (doubleClick && code !== 0) await waitForEnter("Press Enter to close this window.\n");
    exit(code);
  };
  try {
    if (doubleClick) process.chdir(doubleClick.folder);
    await program().parseAsync(argv as string[], { from: "user" });
  } catch (error) {
    // InvalidArgumentError is a CommanderError too, but thrown by our actions, so commander has not printed it.
    if (error instanceof InvalidArgumentError) {
      process.stderr.write(`bank: ${error.message}\n`);
      await fail(EXIT_USAGE);
    }
    if (error instanceof CommanderError) {
      await fail(error.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`bank: ${error.message}\n`);
      await fail(EXIT_USAGE);
    }
    const message = error instanceof CorruptStoreError
      ? `the stored data cannot be trusted: ${error.message}`
      : error instanceof Error
      ? error.message
      : String(error);
    process.stderr.write(`bank: cannot continue: ${message}\n`);
    // Logged too (when logging was set up): a start that failed must not leave the log silent.
    logger("cli").fatal("Cannot continue: {error}", { event: "failed", error: message });
    await stopLogging().catch(() => {});
    await fail(EXIT_FAILURE);
  }
}

// Not a top-level await: the single executable is built from a CommonJS bundle, which has none.
void main(process.argv.slice(2));
