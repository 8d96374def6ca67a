/** `bank check <ip[:port]>`: reads the target and flags, runs the checks, prints the report; the exit code. */
import { InvalidArgumentError } from "commander";
import process from "node:process";
import { loadConfig } from "../config.ts";
import { parseBankCode } from "../protocol/values.ts";
import { passed, reportJson, reportText } from "./report.ts";
import { runChecks } from "./run.ts";

/** The flags of `bank check`. */
export interface CheckFlags {
  config?: string;
  write?: boolean;
  forward?: string;
  json?: boolean;
}

/** `10.0.0.5` or `10.0.0.5:65530`; throws InvalidArgumentError (exit 2). */
export function parseTarget(text: string): { host: string; port?: number } {
  const [host, port, ...rest] = text.split(":");
  const n = Number(port);
  if (rest.length > 0 || parseBankCode(host!) === undefined || (port !== undefined && (!/^[0-9]{1,5}$/.test(port) || n < 1 || n > 65535))) {
    throw new InvalidArgumentError(`expected <ip> or <ip>:<port> (an IPv4 address, a port 1–65535), got '${text}'`);
  }
  return port === undefined ? { host: host! } : { host: host!, port: n };
}

/** Runs `bank check`; resolves with the exit code: 0 when every required check passes, 1 otherwise. */
export async function checkCommand(target: string, flags: CheckFlags): Promise<number> {
  const { host, port } = parseTarget(target);
  if (flags.forward !== undefined && parseBankCode(flags.forward) === undefined) {
    throw new InvalidArgumentError(`--forward expects an IPv4 address, got '${flags.forward}'`);
  }
  const config = loadConfig(flags.config);
  const tty = process.stderr.isTTY === true;
  const report = await runChecks({
    host,
    port,
    write: flags.write,
    forward: flags.forward,
    timeoutMs: config.timeoutMs,
    scanTimeoutMs: config.scanTimeoutMs,
    notice: (text) => process.stderr.write(`${text}\n`),
    onProgress: tty ? (done, total) => process.stderr.write(`\rchecking ${target}: ${done}/${total}\x1b[K`) : undefined,
  });
  if (tty) process.stderr.write("\r\x1b[K");
  process.stdout.write(`${flags.json ? reportJson(report) : reportText(report)}\n`);
  return passed(report) ? 0 : 1;
}
