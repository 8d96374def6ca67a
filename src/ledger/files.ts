/** Small file helpers for the ledger: writes that cannot be cut short in silence, and removal. */
import { promises as fs, writeSync } from "node:fs";

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
