/**
 * The snapshot file: the SQLite database behind a checksummed header, replaced atomically
 * (temp file, fsync, rename, fsync of the directory) so a crash leaves the old or the new one whole.
 */
import { promises as fs } from "node:fs";
import { crc32 } from "./crc32.ts";
import { CorruptStoreError } from "./accounts.ts";
import { replaceDurably } from "./files.ts";

const MAGIC = "BANKSNP1";
const HEADER_BYTES = 16;

/** Reads a snapshot; undefined when there is none; throws CorruptStoreError when it cannot be trusted. */
export async function readSnapshot(path: string): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (bytes.length < HEADER_BYTES || magic !== MAGIC) {
    throw new CorruptStoreError(`${path} is not a bank snapshot (bad header)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const body = bytes.subarray(HEADER_BYTES);
  if (body.length !== length) {
    throw new CorruptStoreError(`${path} is truncated or padded: ${body.length} bytes, header says ${length}`);
  }
  if (crc32(body) !== view.getUint32(12, true)) {
    throw new CorruptStoreError(`${path} fails its checksum: the file was damaged`);
  }
  return body;
}

/** Writes a snapshot so that it replaces the old one atomically and durably. */
export async function writeSnapshot(path: string, database: Uint8Array): Promise<void> {
  const bytes = new Uint8Array(HEADER_BYTES + database.length);
  bytes.set(new TextEncoder().encode(MAGIC));
  const view = new DataView(bytes.buffer);
  view.setUint32(8, database.length, true);
  view.setUint32(12, crc32(database), true);
  bytes.set(database, HEADER_BYTES);
  // The old snapshot stays the only good copy until the new one is whole on disk.
  await replaceDurably(path, bytes);
}
