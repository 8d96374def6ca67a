/** LogTape setup: structured JSON lines to the log file (rotated by size), short human lines to the console. */
import { Buffer } from "node:buffer";
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { configure, getConsoleSink, getLogger, type Logger, type LogRecord, reset, type Sink } from "@logtape/logtape";

/** How often buffered log lines are written out, and how much may wait before that. */
const FLUSH_INTERVAL_MS = 100;
const FLUSH_BYTES = 64 * 1024;
const BUFFER_BYTES = 256 * 1024;
/** The log file is rotated past this size: `bank.log` becomes `bank.log.1`, `.1` becomes `.2`, and so on. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated files kept beside the live one; the oldest is dropped (so at most 6 × 10 MiB on disk). */
export const LOG_MAX_FILES = 5;

/** Which of the executable's commands writes the log: several may share one file. */
export type ProcessName = "serve" | "scan" | "plan" | "repair";

/** The JSON fragment naming this process, on every line: `,"process":"serve","pid":123`. */
let processFragment = "";

const bigintAsString = (_key: string, value: unknown) => (typeof value === "bigint" ? String(value) : value);

/** One JSON object per record: time, level, logger, the rendered message, then the properties flat. */
function jsonLine(record: LogRecord): string {
  let message = "";
  for (let i = 0; i < record.message.length; i++) message += String(record.message[i]);
  const head = `{"@timestamp":"${new Date(record.timestamp).toISOString()}","level":"${record.level}","logger":"${
    record.category.join(".")
  }"${processFragment},"message":${JSON.stringify(message)}`;
  let properties: string;
  try {
    properties = JSON.stringify(record.properties);
  } catch {
    // A replacer on every record would double the cost of the hot path's log line; bigints are rare.
    properties = JSON.stringify(record.properties, bigintAsString);
  }
  return properties.length > 2 ? `${head},${properties.slice(1)}\n` : `${head}}\n`;
}

/** A log file written in batches. */
interface LineFile extends Disposable {
  append(line: string): void;
}

/** Size limits of the log file. */
export interface RotationOptions {
  /** Rotate before a write would take the file past this many bytes. */
  readonly maxBytes: number;
  /** Rotated files kept (`<path>.1` newest … `<path>.<maxFiles>` oldest). */
  readonly maxFiles: number;
}

/**
 * Buffers lines and appends them every 100 ms or 64 KiB, never fsyncing: the log is for diagnosis,
 * the journal is what is durable, and a sync per flush would compete with its fsyncs. (LogTape's own
 * rotating sink fsyncs every flush, and the per-command line bypasses LogTape, so rotation lives here,
 * named as LogTape names it.) Several processes may append to one file (a server, and `bank scan`
 * run from its folder): the size is read from the file itself, and a file another process has already
 * rotated away is not rotated again.
 */
function openLineFile(path: string, rotation: RotationOptions): LineFile {
  mkdirSync(dirname(path), { recursive: true });
  let fd = openSync(path, "a");
  // Lines are encoded straight into one buffer: no array of strings to join, no copy per flush.
  const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const rotate = () => {
    const ours = fstatSync(fd).ino;
    closeSync(fd);
    const current = statSync(path, { throwIfNoEntry: false });
    if (current?.ino === ours) {
      for (let i = rotation.maxFiles - 1; i > 0; i--) {
        try {
          renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        } catch {
          // A gap in the series (fewer rotations so far) is fine.
        }
      }
      renameSync(path, `${path}.1`);
    }
    fd = openSync(path, "a");
  };
  const write = (data: Uint8Array) => {
    try {
      if (fstatSync(fd).size + data.length > rotation.maxBytes) rotate();
      // Synchronous on purpose: a page-cache append of a few KiB, ten times a second at most, keeps order simple.
      for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset);
    } catch {
      // A full disk or a file-size limit costs log lines, never the bank: the journal reports its own trouble.
    }
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (used === 0) return;
    write(buffer.subarray(0, used));
    used = 0;
  };
  return {
    append(line: string) {
      // A UTF-16 unit takes at most 3 bytes in UTF-8.
      if (used + 3 * line.length > buffer.length) flush();
      if (3 * line.length > buffer.length) write(Buffer.from(line));
      else used += buffer.write(line, used);
      if (used >= FLUSH_BYTES) flush();
      else timer ??= setTimeout(flush, FLUSH_INTERVAL_MS);
    },
    [Symbol.dispose]() {
      flush();
      closeSync(fd);
    },
  };
}

/** The ISO time of the current millisecond, formatted once per millisecond however many lines share it. */
let stampMs = NaN;
let stamp = "";
function timestamp(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

/** The open log file, shared by the LogTape sink and the per-command fast path. */
let logFile: LineFile | undefined;

/** The constant middle of every command line, after the level; built once per process. */
let commandFragment = "";

/**
 * Logs one command: the same JSON line a LogTape record of logger "bank.server" with message
 * "command" would give, written straight to the log file. The command log is the hot path; going
 * through LogTape's dispatch cost about 9 µs a command, a fifth of all the CPU a deposit takes.
 * `peer` is already a JSON string (quoted), built once per connection.
 */
export function logCommand(peerJson: string, request: string, reply: string, ms: number): void {
  if (logFile === undefined) return;
  logFile.append(
    `{"@timestamp":"${timestamp()}","level":"${
      reply.startsWith("ER ") ? "warning" : "info"
    }"${commandFragment}${peerJson},"request":${JSON.stringify(request)},"reply":${JSON.stringify(reply)},"ms":${ms}}\n`,
  );
}

/** How logging is set up for one process. */
export interface LoggingOptions {
  /** The JSON-lines log file; none: console only. */
  readonly file: string | undefined;
  /** Which command this process runs, named on every line with the pid. */
  readonly process: ProcessName;
  /** Size limits (default LOG_MAX_BYTES, LOG_MAX_FILES). */
  readonly rotation?: RotationOptions;
}

/** Sets up logging: everything under "bank" to the file (JSON lines), info and up of "bank.console" to stdout. */
export async function setUpLogging(options: LoggingOptions): Promise<void> {
  const { file } = options;
  processFragment = `,"process":"${options.process}","pid":${process.pid}`;
  commandFragment = `,"logger":"bank.server"${processFragment},"message":"command","event":"command","peer":`;
  const sinks: Record<string, Sink> = {
    console: getConsoleSink({ formatter: (record) => `${record.message.join("")}\n` }),
  };
  if (file !== undefined) {
    const opened = openLineFile(file, options.rotation ?? { maxBytes: LOG_MAX_BYTES, maxFiles: LOG_MAX_FILES });
    logFile = opened;
    sinks.file = Object.assign((record: LogRecord) => opened.append(jsonLine(record)), {
      [Symbol.dispose]() {
        if (logFile === opened) logFile = undefined;
        opened[Symbol.dispose]();
      },
    });
  }
  await configure({
    reset: true,
    sinks,
    loggers: [
      { category: ["bank"], sinks: file === undefined ? [] : ["file"], lowestLevel: "debug" },
      { category: ["bank", "console"], sinks: ["console"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
}

/** Flushes and closes the sinks. */
export async function stopLogging(): Promise<void> {
  await reset();
}

/** A logger under the "bank" category. */
export function logger(...category: string[]): Logger {
  return getLogger(["bank", ...category]);
}
