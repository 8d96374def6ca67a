/** Small file helpers for the ledger: writes that cannot be cut short in silence, atomic replacement, removal. */
import { Buffer } from "node:buffer";
import { promises as fs, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDirectory } from "../runtime.ts";

/** Writes all of `bytes` to a file descriptor, on this thread. */
export function writeFullySync(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw new Error(`short write: ${offset} of ${bytes.length} bytes`);
    offset += written;
  }
}

/** Writes all of `bytes`: a write may be cut short (file size limit, full disk) without an error. */
export async function writeFully(file: fs.FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new Error(`short write: ${offset} of ${bytes.length} bytes`);
    offset += bytesWritten;
  }
}

/** Removes a file if it is there. (fs.rm costs ~70 ms on its first call in Node 20: it loads rimraf.) */
export async function removeIfExists(path: string): Promise<void> {
  await fs.unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

/**
 * Replaces `path` with `bytes` so that a crash leaves the old or the new file whole: a temp file
 * written in full and fsynced, renamed over `path`, then the directory fsynced. A short write never
 * reaches the rename.
 */
export async function replaceDurably(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const file = await fs.open(tmp, "w");
    try {
      await writeFully(file, bytes);
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (error) {
    await removeIfExists(tmp).catch(() => {});
    throw error;
  }
  await fs.rename(tmp, path);
  await fsyncDirectory(dirname(path));
}

/**
 * Writes `bytes` to a new file durably (fsynced, directory too), never over an existing one: when
 * `path` is taken by other bytes, `path-2`, `path-3`, … is used; a file already holding exactly
 * these bytes is kept as it is (a repeated run). Returns the path written.
 */
export async function writeNewDurably(path: string, bytes: Uint8Array): Promise<string> {
  for (let n = 1;; n++) {
    const candidate = n === 1 ? path : `${path}-${n}`;
    let file: fs.FileHandle;
    try {
      file = await fs.open(candidate, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Buffer.from(await fs.readFile(candidate)).equals(bytes)) return candidate;
      continue;
    }
    try {
      await writeFully(file, bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await fsyncDirectory(dirname(candidate));
    return candidate;
  }
}
