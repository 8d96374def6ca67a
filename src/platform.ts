/**
 * What differs between Linux, Windows, Node, Deno and the single executables, fenced off here: directory fsync,
 * the shutdown signals, how a data lock knows its owner is gone, and what a double-click start means.
 */
import { constants, existsSync, promises as fs, readFileSync } from "node:fs";
import { posix, win32 } from "node:path";
import process from "node:process";

/** The two families the bank tells apart. */
export type Platform = "windows" | "posix";

/** The platform this process runs on (Wine counts as Windows: it is Windows' node.exe). */
export const PLATFORM: Platform = process.platform === "win32" ? "windows" : "posix";

/**
 * Flushes a directory entry (a rename) to disk. Windows cannot open a directory for sync (EPERM) and NTFS
 * journals its own metadata, so there it does nothing.
 */
export async function fsyncDirectory(path: string, platform: Platform = PLATFORM): Promise<void> {
  if (platform === "windows") return;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, "r");
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename itself already happened.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EBADF") throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * The signals that stop the bank cleanly. On Windows, Node turns closing the console window into SIGHUP (and
 * Windows ends the process about 10 s later) and Ctrl+Break into SIGBREAK; on Linux SIGHUP keeps its default.
 */
export function shutdownSignals(platform: Platform = PLATFORM): NodeJS.Signals[] {
  return platform === "windows" ? ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
}

/** Calls `handler` on the first shutdown signal, and `again` on any later one (a second Ctrl+C). */
export function onShutdownSignal(handler: (signal: string) => void, again: (signal: string) => void): void {
  let called = false;
  for (const signal of shutdownSignals()) {
    process.on(signal, () => {
      if (called) return again(signal);
      called = true;
      handler(signal);
    });
  }
}

/** Ends the process with a code, after stdout and stderr have been written. */
export function exit(code: number): never {
  process.exit(code);
}

/** The fields of /proc/<pid>/stat a lock needs: state (R, S, Z …) and start time in clock ticks since boot. */
function procStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", startTime: fields[19] ?? "" };
}

const HAS_PROC = PLATFORM === "posix" && existsSync("/proc/self/stat");

/**
 * Names this process in a lock file so that a later reader can tell it from a new process reusing the pid:
 * "<pid> <start time>" where /proc exists (Linux), the pid alone elsewhere.
 */
export function processIdentity(pid: number = process.pid): string {
  const stat = HAS_PROC ? procStat(pid) : undefined;
  return stat ? `${pid} ${stat.startTime}` : String(pid);
}

/**
 * Whether the process a lock file names still runs: not gone, not a zombie (killed, not yet reaped by its
 * parent), and not another program that got the same pid. Without /proc, a pid that answers counts as running.
 */
export function processRunning(identity: string): boolean {
  const [pidText = "", startTime] = identity.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!/^[0-9]+$/.test(pidText) || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  if (HAS_PROC) {
    const stat = procStat(pid);
    if (stat === undefined || stat.state === "Z" || stat.state === "X") return false;
    return startTime === undefined || stat.startTime === startTime;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** libuv's UV_FS_O_EXLOCK: open with sharing mode 0. Windows only; Node does not export it in fs.constants. */
const UV_FS_O_EXLOCK = 0x10000000;

/**
 * Windows: opens `path` so that no other process can open it while this handle lives; Windows closes the
 * handle when the process ends, however it ends, so the claim can never outlive its owner. Throws EBUSY
 * when another process holds it.
 */
export function openExclusive(path: string): Promise<fs.FileHandle> {
  return fs.open(path, constants.O_RDWR | constants.O_CREAT | UV_FS_O_EXLOCK);
}

/**
 * A start with no arguments on Windows is a double-click: it serves with the config.json beside the executable,
 * from the executable's folder (so default data and log land there too). Undefined for any other start.
 */
export function doubleClickStart(
  args: readonly string[],
  options: { programFile: string; platform?: Platform },
): { args: string[]; folder: string } | undefined {
  const platform = options.platform ?? PLATFORM;
  if (args.length > 0 || platform !== "windows") return undefined;
  const config = configBeside(options.programFile, platform);
  return { args: ["serve", "--config", config], folder: win32.dirname(config) };
}

/** The config.json in the folder of `programFile`, with that platform's separators and drive letters. */
export function configBeside(programFile: string, platform: Platform = PLATFORM): string {
  const path = platform === "windows" ? win32 : posix;
  return path.join(path.dirname(programFile), "config.json");
}

/**
 * A double-clicked program's console window closes when it exits: after a fatal error, wait for Enter so the
 * message can be read. Does nothing when stdin is not a terminal (a script, a test, a service).
 */
export function waitForEnter(prompt: string): Promise<void> {
  if (process.stdin.isTTY !== true) return Promise.resolve();
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    process.stdin.once("data", () => resolve()).once("end", () => resolve());
    process.stdin.resume();
  });
}
