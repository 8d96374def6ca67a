/**
 * The append-only journal beside the snapshot: checksummed records, group-committed with one
 * fdatasync per batch (several batches syncing at once), replayed at start. A torn tail is dropped;
 * damage followed by valid records is reported, never dropped (see decodeRecords).
 */
import { Buffer } from "node:buffer";
import { fdatasyncSync, promises as fs } from "node:fs";
import { crc32 } from "./crc32.ts";
import { removeIfExists, replaceDurably, writeFullySync } from "./files.ts";

/** One record: its sequence number and its text. */
export interface JournalRecord {
  readonly seq: number;
  readonly text: string;
}

/** Bytes that are not whole, valid records, with valid records after them: damage, never dropped silently. */
export interface DamagedRegion {
  /** Byte offset of the first unreadable byte. */
  readonly offset: number;
  readonly bytes: number;
  /** How many valid records the file holds before it. */
  readonly recordsBefore: number;
}

/** What reading the journal found. */
export interface JournalContents {
  /** Every valid record, in file order, including those after damaged regions. */
  readonly records: JournalRecord[];
  /** Unreadable runs followed by valid records, in file order. */
  readonly damaged: DamagedRegion[];
  /** Unreadable bytes after the last valid record (a write torn by a crash). */
  readonly tornBytes: number;
  /** The file's size in bytes. */
  readonly size: number;
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

/** The encoded size of one record. */
function recordBytes(record: JournalRecord): number {
  return HEADER_BYTES + Buffer.byteLength(`${record.seq} ${record.text}`);
}

/** Encodes one record. */
export function encodeRecord(record: JournalRecord): Uint8Array {
  return encodeRecords([record]);
}

/** The whole, valid record starting at `offset`, with its size in bytes; undefined when there is none. */
function recordAt(bytes: Uint8Array, view: DataView, offset: number): { record: JournalRecord; size: number } | undefined {
  if (offset + HEADER_BYTES > bytes.length) return undefined;
  const length = view.getUint32(offset, true);
  if (length === 0 || length > MAX_RECORD_BYTES || offset + HEADER_BYTES + length > bytes.length) return undefined;
  const body = bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
  if (crc32(body) !== view.getUint32(offset + 4, true)) return undefined;
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return undefined;
  }
  const space = text.indexOf(" ");
  const seq = Number(text.slice(0, space));
  if (space < 1 || !Number.isSafeInteger(seq)) return undefined;
  return { record: { seq, text: text.slice(space + 1) }, size: HEADER_BYTES + length };
}

/**
 * Decodes every valid record. After bytes that are not a valid record it resynchronizes: it looks
 * byte by byte for the next offset where a record's length and CRC-32 check out (a false match is a
 * 2^-32 chance), so damage in the middle is told apart from a torn tail, and no record after it is lost.
 */
export function decodeRecords(bytes: Uint8Array): JournalContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  const damaged: DamagedRegion[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const found = recordAt(bytes, view, offset);
    if (found) {
      records.push(found.record);
      offset += found.size;
      continue;
    }
    let next = offset + 1;
    while (next < bytes.length && recordAt(bytes, view, next) === undefined) next++;
    if (next >= bytes.length) break;
    damaged.push({ offset, bytes: next - offset, recordsBefore: records.length });
    offset = next;
  }
  return { records, damaged, tornBytes: bytes.length - offset, size: bytes.length };
}

/** Reads and decodes the journal file (none: empty). Changes nothing on disk. */
export async function readJournal(path: string): Promise<JournalContents> {
  const bytes = await fs.readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return new Uint8Array(0);
    throw error;
  });
  return decodeRecords(bytes);
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

/** A batch written to the file whose fdatasync has not been accounted for yet. */
interface Written {
  readonly batch: Batch;
  /** File size once this batch is on disk. */
  readonly end: number;
  readonly lastSeq: number;
  readonly lastRecordBytes: number;
}

/**
 * fdatasyncs in flight at once. Several let a batch start syncing while an earlier one still waits on
 * the disk, which then merges them; the disk completes more syncs per second, and a record waits for
 * about one sync, not up to two.
 */
const MAX_SYNCS_IN_FLIGHT = 4;

/**
 * fdatasync on this thread, settled like the thread pool's. For a lone record with nothing else syncing
 * (one client, one request at a time): the pool's hop costs about five more context switches per record than
 * the sync itself (wake a worker, the worker wakes the loop), each dear on a virtual machine, and there is
 * nothing to overlap the sync with. A batch of several, or one while others sync, still goes to the pool.
 */
function syncHere(fd: number): Promise<void> {
  fdatasyncSync(fd);
  return Promise.resolve();
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * An open journal file. Appends resolve once their batch is on disk, in the order they were made:
 * a batch is acknowledged only after its own fdatasync and every earlier batch's have succeeded.
 */
export class Journal {
  readonly #path: string;
  #file: fs.FileHandle;
  /** Bytes known to be on disk. */
  #size: number;
  /** Bytes written to the file (on disk or syncing). */
  #written: number;
  /** Bytes of the last whole record on disk (0: none): compaction keeps it, see lastRecordOffset. */
  #lastRecordBytes: number;
  /** Records waiting for the next batch; encoded together when it is written. */
  #pending: JournalRecord[] = [];
  #batch: Batch | undefined;
  #jobs: (() => Promise<void>)[] = [];
  #running: Promise<void> | undefined;
  /** Wakes the write loop while it waits for an append, a job or a sync. */
  #wake: (() => void) | undefined;
  #inFlight = 0;
  /** Settles once every batch written so far has been accounted for, in order. */
  #settled: Promise<void> = Promise.resolve();
  /** A write failed: nothing more is written until every batch in flight is settled and the file is cut back. */
  #halted = false;
  /** What the batches after a failure reject with, until the file has been cut back. */
  #failure: Error | undefined;
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

  private constructor(path: string, file: fs.FileHandle, size: number, lastRecordBytes: number) {
    this.#path = path;
    this.#file = file;
    this.#size = this.#written = size;
    this.#lastRecordBytes = lastRecordBytes;
  }

  /**
   * Opens (creating) the journal for appending after `contents` (as read by readJournal), cutting off
   * its torn tail so appends follow whole records. Damaged regions must have been dealt with before.
   */
  static async open(path: string, contents: JournalContents): Promise<Journal> {
    if (contents.damaged.length > 0) throw new Error(`${path} has damaged regions: repair it before appending`);
    await removeIfExists(`${path}.tmp`);
    const file = await fs.open(path, "a+");
    const size = contents.size - contents.tornBytes;
    if (contents.tornBytes > 0) {
      await file.truncate(size);
      await file.datasync();
    }
    const last = contents.records.at(-1);
    return new Journal(path, file, size, last === undefined ? 0 : recordBytes(last));
  }

  /** Bytes of whole records on disk. */
  get size(): number {
    return this.#size;
  }

  /**
   * Where the last whole record on disk starts. A snapshot compacts the journal to here, not to its end:
   * the one record it keeps (already in the snapshot, skipped at start) is what shows, should the
   * snapshot go missing, that the journal continues from a later change than an empty bank's first.
   */
  get lastRecordOffset(): number {
    return this.#size - this.#lastRecordBytes;
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
    if (this.#running === undefined) this.#running = this.#run();
    else this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The one writer: batches, syncs in flight, jobs (which need the file quiet) and recovery from a failure. */
  async #run(): Promise<void> {
    try {
      for (;;) {
        if (this.#inFlight === 0 && this.#failure !== undefined) {
          await this.#cutBack();
        } else if (this.#jobs.length > 0) {
          if (this.#inFlight === 0) await this.#jobs.shift()!();
          else await this.#sleep();
        } else if (this.#pending.length > 0 && !this.#halted && this.#inFlight < MAX_SYNCS_IN_FLIGHT) {
          // Every record appended in this event-loop turn joins the batch.
          await nextTurn();
          if (this.#pending.length > 0 && !this.#halted) this.#flush();
        } else if (this.#inFlight > 0 || this.#pending.length > 0) {
          await this.#sleep();
        } else {
          return;
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  /** Writes the pending records as one batch and starts its fdatasync. */
  #flush(): void {
    const records = this.#pending;
    const batch = this.#batch!;
    this.#pending = [];
    this.#batch = undefined;
    const bytes = encodeRecords(records);
    const last = records.at(-1)!;
    const written: Written = { batch, end: this.#written + bytes.length, lastSeq: last.seq, lastRecordBytes: recordBytes(last) };
    let synced: Promise<void>;
    try {
      if (this.#broken) throw this.#broken;
      // The write goes to the page cache on this thread (microseconds); only the sync waits on the disk.
      writeFullySync(this.#file.fd, bytes);
      this.#written = written.end;
      synced = records.length === 1 && this.#inFlight === 0 ? syncHere(this.#file.fd) : this.#file.datasync();
    } catch (cause) {
      // Nothing more may be written behind a failed write; the failure is settled in its turn, after
      // the batches before it, which may still succeed.
      this.#halted = true;
      synced = Promise.reject(cause);
    }
    this.#inFlight++;
    const previous = this.#settled;
    this.#settled = synced.then(
      () => previous.then(() => this.#settle(written, undefined)),
      (cause: unknown) => previous.then(() => this.#settle(written, cause)),
    );
  }

  /** Accounts for one batch's fdatasync, in write order. */
  #settle(written: Written, cause: unknown): void {
    this.#inFlight--;
    if (cause !== undefined && this.#failure === undefined) this.#fail(cause);
    if (this.#failure === undefined) this.#durable(written);
    else written.batch.reject(this.#failure);
    this.#wakeUp();
  }

  #durable(written: Written): void {
    this.#size = written.end;
    this.#lastRecordBytes = written.lastRecordBytes;
    this.onDurable?.(written.lastSeq);
    written.batch.resolve();
  }

  /**
   * The first failed batch: everything after it fails too (it was built on the state being undone),
   * and is refused before any await, so no change can be applied on top of the state being undone.
   */
  #fail(cause: unknown): void {
    this.#halted = true;
    const failure = new Error(`journal write failed: ${String(cause)}`, { cause });
    this.#failure = this.onFailure?.(failure) ?? failure;
    this.#batch?.reject(this.#failure);
    this.#pending = [];
    this.#batch = undefined;
  }

  /**
   * Once every batch in flight is settled: cuts what the failed batches left off the file. If even that
   * fails, later records would sit behind garbage and be lost at replay, so the journal refuses every
   * append from now on.
   */
  async #cutBack(): Promise<void> {
    await this.#file.truncate(this.#size).catch((truncateError: unknown) => {
      this.#broken ??= new Error(`journal cannot be repaired: ${String(truncateError)}`);
    });
    this.#written = this.#size;
    this.#failure = undefined;
    this.#halted = false;
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
    this.#size = this.#written = keep.length;
  }
}
