/** LogTape setup: structured JSON lines to the log file, short human lines to the console. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { configure, getConsoleSink, getJsonLinesFormatter, getLogger, type Logger, reset } from "@logtape/logtape";
import { getFileSink } from "@logtape/file";

/** Sets up logging: everything under "bank" to `file` (JSON lines), info and up of "bank.console" to stderr. */
export async function setUpLogging(file: string | undefined): Promise<void> {
  const sinks: Record<string, ReturnType<typeof getConsoleSink>> = {
    console: getConsoleSink({ formatter: (record) => `${record.message.join("")}\n` }),
  };
  if (file !== undefined) {
    mkdirSync(dirname(file), { recursive: true });
    // Non-blocking and buffered: one log line per request must not cost a write syscall each.
    sinks.file = getFileSink(file, { formatter: getJsonLinesFormatter({ properties: "flatten" }), nonBlocking: true, bufferSize: 64 * 1024, flushInterval: 100 });
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
