/** Loads and validates config.json, applies command-line overrides; one typed Config. */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { networkInterfaces } from "node:os";
import type { Language } from "./protocol/messages.ts";
import { type BankCode, parseBankCode } from "./protocol/values.ts";

/** The lowest port a bank may listen on. */
export const MIN_PORT = 65525;
/** The highest port a bank may listen on. */
export const MAX_PORT = 65535;

/** The validated configuration; times in milliseconds, names say so. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly bankCode: BankCode;
  readonly timeoutMs: number;
  readonly clientTimeoutMs: number;
  readonly scanProcesses: number;
  readonly scanTimeoutMs: number;
  /** CIDR of the subnet scanned for banks; default the /24 of the bank code. */
  readonly scanSubnet: string;
  readonly data: string;
  readonly log: string;
  readonly snapshotIntervalMs: number;
  readonly language: Language;
  readonly maxConnections: number;
  /** Where the read-only monitor page listens; undefined: no monitor. */
  readonly monitor: MonitorAddress | undefined;
}

/** The address of the monitor page. */
export interface MonitorAddress {
  readonly host: string;
  readonly port: number;
}

/** A bad config file, key or value: one line naming it; the CLI exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Raw = Record<string, unknown>;

/** Every key: its check, and its default when absent. */
const KEYS = {
  host: { default: "127.0.0.1", check: ipv4, hint: "an IPv4 address such as 127.0.0.1 or 0.0.0.0" },
  port: { default: 65525, check: integer(MIN_PORT, MAX_PORT), hint: `an integer ${MIN_PORT}–${MAX_PORT}` },
  bank_code: { default: undefined, check: ipv4, hint: "an IPv4 address (default: host)" },
  timeout: { default: 5, check: seconds(0.05, 300), hint: "seconds, 0.05–300" },
  client_time_out: { default: 60, check: seconds(1, 86400), hint: "seconds, 1–86400" },
  scan_processes: { default: 64, check: integer(1, 4096), hint: "an integer 1–4096" },
  scan_time_out: { default: 0.3, check: seconds(0.01, 60), hint: "seconds, 0.01–60" },
  scan_subnet: { default: undefined, check: cidr, hint: "an IPv4 CIDR /16–/32 such as 127.0.0.0/24" },
  data: { default: "./data/bank.db", check: path, hint: "a file path" },
  log: { default: "./logs/bank.log", check: path, hint: "a file path" },
  snapshot_interval: { default: 30, check: seconds(1, 86400), hint: "seconds, 1–86400" },
  language: { default: "en", check: (v: unknown) => v === "en" || v === "cs", hint: `"en" or "cs"` },
  max_connections: { default: 2048, check: integer(1, 100000), hint: "an integer 1–100000" },
  monitor: { default: undefined, check: (v: unknown) => monitorAddress(v) !== undefined, hint: `"HOST:PORT" or "PORT" (loopback)` },
} as const satisfies Record<string, { default: unknown; check: (v: unknown) => boolean; hint: string }>;

/** The config keys, snake_case as in config.json. */
export type ConfigKey = keyof typeof KEYS;

/** Values given on the command line; they win over the file. */
export type Overrides = Partial<Record<ConfigKey, unknown>>;

function ipv4(v: unknown): boolean {
  return typeof v === "string" && parseBankCode(v) !== undefined;
}
function integer(min: number, max: number) {
  return (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}
function seconds(min: number, max: number) {
  return (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;
}
function path(v: unknown): boolean {
  return typeof v === "string" && v.length > 0;
}
/** "HOST:PORT" or "PORT" (then on 127.0.0.1); undefined when it is neither. */
function monitorAddress(v: unknown): MonitorAddress | undefined {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  const match = /^(?:([0-9.]+):)?([0-9]{1,5})$/.exec(String(v));
  const host = match?.[1] ?? "127.0.0.1";
  const port = Number(match?.[2]);
  return match !== null && ipv4(host) && port >= 1 && port <= 65535 ? { host, port } : undefined;
}
function cidr(v: unknown): boolean {
  if (typeof v !== "string") return false;
  const [ip, bits, ...rest] = v.split("/");
  return rest.length === 0 && ipv4(ip) && /^[0-9]{1,2}$/.test(bits ?? "") && Number(bits) >= 16 && Number(bits) <= 32;
}

/** Reads the config file: a missing file means defaults; a file that is there must be valid JSON. */
function readConfigFile(file: string, mustExist: boolean): Raw {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && !mustExist) return {};
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  return raw as Raw;
}

/** What is wrong with `value` for `key` (the hint of what is allowed), or undefined when it is fine. */
export function checkConfigValue(key: ConfigKey, value: unknown): string | undefined {
  const spec = KEYS[key];
  return spec.check(value) ? undefined : spec.hint;
}

/** Validates file values and overrides into a Config; throws ConfigError naming the first bad key. */
export function resolveConfig(file: Raw, overrides: Overrides = {}): Config {
  for (const key of Object.keys(file)) {
    if (!Object.hasOwn(KEYS, key)) {
      throw new ConfigError(`unknown config key "${key}"; known keys: ${Object.keys(KEYS).join(", ")}`);
    }
  }
  const merged: Raw = { ...file };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value;
  const value = <K extends ConfigKey>(key: K): unknown => {
    // A key written as null is a mistake, not a request for the default: only a missing key means that.
    const v = Object.hasOwn(merged, key) ? merged[key] : KEYS[key].default;
    const problem = v === undefined ? undefined : checkConfigValue(key, v);
    if (problem !== undefined) throw new ConfigError(`config key "${key}" has invalid value ${JSON.stringify(v)}: expected ${problem}`);
    return v;
  };
  const host = value("host") as string;
  const bankCode = (value("bank_code") as string | undefined) ?? defaultBankCode(host);
  return {
    host,
    port: value("port") as number,
    bankCode: bankCode as BankCode,
    timeoutMs: (value("timeout") as number) * 1000,
    clientTimeoutMs: (value("client_time_out") as number) * 1000,
    scanProcesses: value("scan_processes") as number,
    scanTimeoutMs: (value("scan_time_out") as number) * 1000,
    scanSubnet: (value("scan_subnet") as string | undefined) ?? `${bankCode.split(".").slice(0, 3).join(".")}.0/24`,
    data: value("data") as string,
    log: value("log") as string,
    snapshotIntervalMs: (value("snapshot_interval") as number) * 1000,
    language: value("language") as Language,
    maxConnections: value("max_connections") as number,
    monitor: monitorAddress(value("monitor")),
  };
}

/** The bank code for a host: itself, or for 0.0.0.0 the first non-internal IPv4 address. */
function defaultBankCode(host: string): string {
  if (host !== "0.0.0.0") return host;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

/** Keys naming files: relative values in a config file are relative to that file's folder. */
const PATH_KEYS = ["data", "log"] as const;

/**
 * Loads the config: file (default ./config.json, may be missing) plus overrides. Relative `data` and
 * `log` paths in the file (and their defaults) are taken from the file's folder, so a bank started from elsewhere finds the
 * same data; paths given as flags stay relative to the working folder, as on any command line.
 */
export function loadConfig(file: string | undefined, overrides: Overrides = {}): Config {
  const path = file ?? "config.json";
  const raw = readConfigFile(path, file !== undefined);
  for (const key of PATH_KEYS) {
    // The defaults too: a bank's data and log sit beside its config unless it says otherwise.
    const value = Object.hasOwn(raw, key) ? raw[key] : KEYS[key].default;
    if (typeof value === "string" && value !== "" && !isAbsolute(value)) raw[key] = join(dirname(path), value);
  }
  return resolveConfig(raw, overrides);
}
