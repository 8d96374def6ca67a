/**
 * What start-up and `bank repair` make of the files on disk: the snapshot's table, which journal records
 * to replay on top of it, and, when the files cannot be used as they are, a refusal whose advice leads to
 * a correct state. Reads, never writes.
 */
import { type AccountNumber, MAX_AMOUNT, MIN_ACCOUNT } from "../protocol/values.ts";
import { AccountTable, CorruptStoreError } from "./accounts.ts";
import type { JournalContents, JournalRecord } from "./journal.ts";
import { readSnapshot } from "./snapshot.ts";

/** The two files of a ledger: the snapshot (`data`) and its journal beside it. */
export interface StorePaths {
  readonly snapshot: string;
  readonly journal: string;
}

/** The paths of the ledger kept in `data`. */
export function storePaths(data: string): StorePaths {
  return { snapshot: data, journal: `${data}.journal` };
}

/** The snapshot as loaded: whether there was one, and the last journal change it includes. */
export interface LoadedSnapshot {
  readonly table: AccountTable;
  readonly found: boolean;
  readonly seq: number;
}

/** How to run the repair, for messages: it must see the same files as the bank. */
export const REPAIR_HINT = "run `bank repair` (with the same --config or --data as `bank serve`)";

/** Loads the snapshot (none: an empty table); a damaged one is refused with advice that keeps the journal's changes in view. */
export async function loadSnapshot(paths: StorePaths): Promise<LoadedSnapshot> {
  const advice = `Nothing was changed; restore ${paths.snapshot} from a backup, ` +
    `or move both ${paths.snapshot} and ${paths.journal} aside to start an empty bank`;
  let bytes: Uint8Array | undefined;
  let table: AccountTable;
  try {
    bytes = await readSnapshot(paths.snapshot);
    table = await AccountTable.open(bytes);
  } catch (error) {
    if (!(error instanceof CorruptStoreError)) throw error;
    const named = error.message.includes(paths.snapshot) ? error.message : `${paths.snapshot}: ${error.message}`;
    throw new CorruptStoreError(`${named}. ${advice}.`, { cause: error });
  }
  return { table, found: bytes !== undefined, seq: table.appliedSeq };
}

/**
 * Refuses a journal with damage followed by valid records: those records are acknowledged changes,
 * and starting without them would lose them in silence. The files are left as they are.
 */
export function assertUndamaged(contents: JournalContents, paths: StorePaths): void {
  const [first, ...more] = contents.damaged;
  if (first === undefined) return;
  const following = contents.records.length - first.recordsBefore;
  const others = more.length === 0 ? "" : ` (and ${more.length} more damaged ${more.length === 1 ? "region" : "regions"} after it)`;
  throw new CorruptStoreError(
    `the journal ${paths.journal} is damaged at byte ${first.offset}: ${first.bytes} bytes cannot be read${others}, ` +
      `and ${following} valid ${following === 1 ? "record follows" : "records follow"} (acknowledged changes, ` +
      `so the bank does not start without them). Nothing was changed; ${REPAIR_HINT} to keep every readable ` +
      `record and move the unreadable bytes to a file beside the journal, then start the bank again.`,
  );
}

/**
 * The journal records newer than the snapshot, in order. Sequence numbers have no gaps, so when the
 * first newer record is not the snapshot's next change, the changes in between are in neither file
 * (the snapshot was moved away or an older one restored): refused rather than started as a partial
 * bank. A gap right after a damaged region is the damage's, which the caller reports.
 */
export function newerRecords(contents: JournalContents, snapshot: LoadedSnapshot, paths: StorePaths): JournalRecord[] {
  const { records } = contents;
  const first = records.findIndex((r) => r.seq > snapshot.seq);
  if (first < 0) return [];
  const next = records[first]!.seq;
  const explained = contents.damaged.some((d) => d.recordsBefore <= first);
  if (next !== snapshot.seq + 1 && !explained) {
    const missing = snapshot.seq + 1 === next - 1 ? `change ${next - 1} is` : `changes ${snapshot.seq + 1}–${next - 1} are`;
    const held = snapshot.found
      ? `the snapshot ${paths.snapshot} holds changes up to ${snapshot.seq}, but the journal ${paths.journal} continues from change ${next}: ${missing} in neither file (an older snapshot?)`
      : `the journal ${paths.journal} continues from change ${next}, but there is no snapshot ${paths.snapshot} to hold the changes before it: ${missing} missing (the snapshot was moved away?)`;
    throw new CorruptStoreError(
      `${held}. Starting would give a bank without them. Nothing was changed; put back the snapshot that belongs ` +
        `with this journal (the one holding changes up to ${next - 1}), or, to start an empty bank, move both ` +
        `${paths.snapshot} and ${paths.journal} aside. \`bank repair\` cannot fill this gap.`,
    );
  }
  const newer: JournalRecord[] = [];
  let seq = snapshot.seq;
  for (const record of records) {
    if (record.seq <= seq) continue;
    newer.push(record);
    seq = record.seq;
  }
  return newer;
}

/** Applies records to the table; returns the sequence number of the last (or `seq` when there are none). */
export function replay(table: AccountTable, records: readonly JournalRecord[], seq: number): number {
  for (const record of records) {
    applyRecord(table, record.text);
    seq = record.seq;
  }
  return seq;
}

/** Replays one journal record: `S <account> <balance>` or `X <account>`; anything else means corruption. */
function applyRecord(table: AccountTable, text: string): void {
  const [op, accountText, balanceText, extra] = text.split(" ");
  const account = Number(accountText) as AccountNumber;
  const valid = extra === undefined && /^[0-9]{5}$/.test(accountText ?? "") && account >= MIN_ACCOUNT;
  if (valid && op === "S" && balanceText !== undefined && /^[0-9]{1,19}$/.test(balanceText)) {
    const balance = BigInt(balanceText);
    if (balance <= MAX_AMOUNT) return table.write(account, table.balance(account), balance);
  } else if (valid && op === "X" && balanceText === undefined) {
    return table.write(account, table.balance(account), undefined);
  }
  throw new CorruptStoreError(`journal record '${text}' is not a valid change`);
}
