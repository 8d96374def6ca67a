/** The few things that differ between Node, Deno and the single executable, fenced off here. */
import { promises as fs } from "node:fs";
import process from "node:process";

/** Flushes a directory entry (a rename) to disk; a no-op where directories cannot be opened for sync. */
export async function fsyncDirectory(path: string): Promise<void> {
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

/** Calls `handler` on the first SIGINT or SIGTERM, and `again` on any later one (a second Ctrl+C). */
export function onShutdownSignal(handler: (signal: string) => void, again: (signal: string) => void): void {
  let called = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
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
