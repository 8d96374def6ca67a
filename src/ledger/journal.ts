/**
 * The append-only journal beside the snapshot: checksummed records, group-committed with one
 * fdatasync per batch, replayed at start. A torn tail is detected and dropped.
 */
import { Buffer } from "node:buffer";
import { promises as fs } from "node:fs";
import { crc32 } from "./crc32.ts";
import { removeIfExists, replaceDurably, writeFullySync } from "./files.ts";

/** One record: its sequence number and its text. */
export interface JournalRecord {
  readonly seq: number;
  readonly text: string;
}

/** What reading the journal found. */
export interface JournalContents {
  readonly records: JournalRecord[];
  /** Bytes after the last whole record (a write torn by a crash), dropped. */
  readonly tornBytes: number;
}

const HEADER_BYTES = 8;
/** A record is a short line; anything claiming more is garbage, not a record. */
const MAX_RECORD_BYTES = 1024;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes records as `[u32 length][u32 crc32][seq text]` each, little-endian, into one buffer. */
export function encodeRecords(records: readonly JournalRecord[]): Uint8Array {
  const bodies = records.map((r) => `${r.seq} ${r.text}`);
  let size = 0;
  for (const body of bodies) size += HEADER_BYTES + Buffer.byteLength(body);
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const body of bodies) {
    const length = bytes.write(body, offset + HEADER_BYTES, "utf8");
    bytes.writeUInt32LE(length, offset);
    bytes.writeUInt32LE(crc32(bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length)), offset + 4);
    offset += HEADER_BYTES + length;
  }
  return bytes;
}

/** Encodes one record. */
export function encodeRecord(record: JournalRecord): Uint8Array {
  return encodeRecords([record]);
}

/** Decodes every whole record; stops at the first that is cut short or fails its checksum. */
export function decodeRecords(bytes: Uint8Array): JournalContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = view.getUint32(offset, true);
    if (length === 0 || length > MAX_RECORD_BYTES || offset + HEADER_BYTES + length > bytes.length) break;
    const body = bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (crc32(body) !== view.getUint32(offset + 4, true)) break;
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      break;
    }
    const space = text.indexOf(" ");
    const seq = Number(text.slice(0, space));
    if (space < 1 || !Number.isSafeInteger(seq)) break;
    records.push({ seq, text: text.slice(space + 1) });
    offset += HEADER_BYTES + length;
  }
  return { records, tornBytes: bytes.length - offset };
}

/** One batch's outcome, shared by every append in it: one promise per fsync, not per record. */
interface Batch {
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { done, resolve, reject };
}

/** An open journal file. Appends resolve once their batch is on disk. */
export class Journal {
  readonly #path: string;
  #file: fs.FileHandle;
  /** Bytes known to be on disk. */
  #size: number;
  /** Records waiting for the next batch; encoded together when it is written. */
  #pending: JournalRecord[] = [];
  #batch: Batch | undefined;
  #jobs: (() => Promise<void>)[] = [];
  #running: Promise<void> | undefined;
  /** Called synchronously once a batch is on disk, with its last sequence number, before its appends resolve. */
  onDurable: ((seq: number) => void) | undefined;
  /**
   * Called synchronously when a batch fails, before any of its appends reject: the owner undoes every
   * change not on disk in the same instant, so nothing can be built on them in between. It returns
   * the error the appends reject with.
   */
  onFailure: ((error: Error) => Error) | undefined;
  /** Set when a failed write could not be cut off the file: no later record could be trusted. */
  #broken: Error | undefined;

  private constructor(path: string, file: fs.FileHandle, size: number) {
    this.#path = path;
    this.#file = file;
    this.#size = size;
  }

  /** Opens (creating) the journal, reads its records and cuts off a torn tail so appends follow whole records. */
  static async open(path: string): Promise<{ journal: Journal; contents: JournalContents }> {
    await removeIfExists(`${path}.tmp`);
    const bytes = await fs.readFile(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return new Uint8Array(0);
      throw error;
    });
    const contents = decodeRecords(bytes);
    const file = await fs.open(path, "a+");
    const size = bytes.length - contents.tornBytes;
    if (contents.tornBytes > 0) {
      await file.truncate(size);
      await file.datasync();
    }
    return { journal: new Journal(path, file, size), contents };
  }

  /** Bytes of whole records on disk. */
  get size(): number {
    return this.#size;
  }

  /** Appends a record; resolves when it is on disk, rejects (with every later record) when the write fails. */
  append(record: JournalRecord): Promise<void> {
    this.#pending.push(record);
    this.#batch ??= newBatch();
    this.#kick();
    return this.#batch.done;
  }

  /** Resolves when every record appended so far is on disk (or has failed). */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Drops the records before byte `offset` (they are in a durable snapshot now). */
  compact(offset: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#jobs.push(() => this.#compact(offset).then(resolve, reject));
      this.#kick();
    });
  }

  /** Waits for pending work and closes the file. */
  async close(): Promise<void> {
    await this.drain();
    await this.#file.close();
  }

  #kick(): void {
    // setImmediate lets every record appended in this event-loop turn join one batch.
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#run());
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.length > 0 || this.#jobs.length > 0) {
        const job = this.#jobs.shift();
        if (job) await job();
        else await this.#flush();
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #flush(): Promise<void> {
    const records = this.#pending;
    const batch = this.#batch!;
    this.#pending = [];
    this.#batch = undefined;
    const bytes = encodeRecords(records);
    try {
      if (this.#broken) throw this.#broken;
      // The write goes to the page cache on this thread (microseconds); only the sync waits on the disk,
      // so a batch costs one hand-off to the thread pool, not two.
      writeFullySync(this.#file.fd, bytes);
      await this.#file.datasync();
      this.#size += bytes.length;
    } catch (cause) {
      // Everything queued behind a failed batch fails too: it was built on the state that is being undone.
      // Rejected before any await, so no change can be applied on top of the state being undone.
      const failure = new Error(`journal write failed: ${String(cause)}`, { cause });
      const error = this.onFailure?.(failure) ?? failure;
      batch.reject(error);
      (this.#batch as Batch | undefined)?.reject(error);
      this.#pending = [];
      this.#batch = undefined;
      // Cut off what part of the batch reached the file; if even that fails, later records would sit
      // behind garbage and be lost at replay, so the journal refuses every append from now on.
      await this.#file.truncate(this.#size).catch((truncateError: unknown) => {
        this.#broken ??= new Error(`journal cannot be repaired: ${String(truncateError)}`);
      });
      return;
    }
    this.onDurable?.(records.at(-1)!.seq);
    batch.resolve();
  }

  async #compact(offset: number): Promise<void> {
    const keep = new Uint8Array(this.#size - offset);
    if (keep.length > 0) await this.#file.read(keep, 0, keep.length, offset);
    // Closed before the rename: Windows refuses to rename over an open file (EPERM).
    await this.#file.close();
    try {
      await replaceDurably(this.#path, keep);
    } finally {
      this.#file = await fs.open(this.#path, "a+");
    }
    this.#size = keep.length;
  }
}
