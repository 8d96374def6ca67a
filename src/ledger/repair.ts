/**
 * `bank repair`: the way out of a damaged journal that loses nothing that can be read. Every valid
 * record is kept, every unreadable run of bytes is moved to a file beside the journal, and a snapshot
 * with every readable change is written, so the next start has them all and nothing to refuse.
 */
import { promises as fs } from "node:fs";
import { getLogger } from "@logtape/logtape";
import { decodeRecords, type JournalContents } from "./journal.ts";
import { lockData } from "./lock.ts";
import { loadSnapshot, newerRecords, replay, storePaths } from "./recovery.ts";
import { replaceDurably, writeNewDurably } from "./files.ts";
import { writeSnapshot } from "./snapshot.ts";

/** One run of unreadable bytes, now in a file of its own. */
export interface SetAside {
  readonly offset: number;
  readonly bytes: number;
  readonly file: string;
  /** True for bytes after the last valid record (a torn write, or a damaged last record). */
  readonly tail: boolean;
  /** The changes (by sequence number) that were in these bytes and are in no other file; undefined when unknown. */
  readonly lost: { readonly from: number; readonly to: number } | undefined;
}

/** What a repair did. */
export interface RepairReport {
  readonly snapshot: string;
  readonly journal: string;
  /** Whether the journal file exists, and whether there was anything in it to repair. */
  readonly found: boolean;
  readonly repaired: boolean;
  /** Valid records kept in the journal, and how many of them were newer than the old snapshot. */
  readonly kept: number;
  readonly replayed: number;
  readonly setAside: SetAside[];
  readonly accounts: number;
  readonly total: bigint;
}

const log = getLogger(["bank", "ledger"]);

/** Repairs the ledger kept in `data` (the snapshot path); refuses, changing nothing, when that cannot be done soundly. */
export async function repairStore(data: string): Promise<RepairReport> {
  const paths = storePaths(data);
  const bytes = await fs.readFile(paths.journal).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  const lock = bytes === undefined ? undefined : await lockData(data);
  try {
    const journalBytes = bytes ?? new Uint8Array(0);
    const contents = decodeRecords(journalBytes);
    const snapshot = await loadSnapshot(paths);
    try {
      const newer = newerRecords(contents, snapshot, paths);
      const seq = replay(snapshot.table, newer, snapshot.seq);
      const damaged = regions(contents);
      const report = {
        ...paths,
        found: bytes !== undefined,
        repaired: damaged.length > 0,
        kept: contents.records.length,
        replayed: newer.length,
        accounts: snapshot.table.count(),
        total: snapshot.table.total(),
      };
      if (damaged.length === 0) return { ...report, setAside: [] };
      // The unreadable bytes go aside first, then the snapshot takes every readable change, and only then
      // is the journal rewritten: a crash at any point leaves files that a new run of repair finishes.
      const setAside: SetAside[] = [];
      for (const region of damaged) {
        const file = await writeNewDurably(
          `${paths.journal}.damaged-${region.offset}`,
          journalBytes.subarray(region.offset, region.offset + region.bytes),
        );
        setAside.push({ ...region, file, lost: lostChanges(contents, region, snapshot.seq) });
      }
      if (seq !== snapshot.seq) await writeSnapshot(paths.snapshot, snapshot.table.export(seq));
      await replaceDurably(paths.journal, keptBytes(journalBytes, damaged));
      log.warn("Journal repaired: {kept} records kept, {regions} damaged regions set aside", {
        event: "repair",
        journal: paths.journal,
        kept: report.kept,
        regions: setAside.length,
        setAside: setAside.map((s) => ({ offset: s.offset, bytes: s.bytes, file: s.file, lost: s.lost })),
      });
      return { ...report, setAside };
    } finally {
      snapshot.table.close();
    }
  } finally {
    await lock?.release();
  }
}

interface Region {
  readonly offset: number;
  readonly bytes: number;
  readonly tail: boolean;
  /** Valid records before it in the file. */
  readonly recordsBefore: number;
}

/** The damaged regions and the torn tail, in file order. */
function regions(contents: JournalContents): Region[] {
  const found: Region[] = contents.damaged.map((d) => ({ ...d, tail: false }));
  if (contents.tornBytes > 0) {
    const offset = contents.size - contents.tornBytes;
    found.push({ offset, bytes: contents.tornBytes, tail: true, recordsBefore: contents.records.length });
  }
  return found;
}

/** The journal without the regions: every valid record, byte for byte, in order. */
function keptBytes(bytes: Uint8Array, damaged: readonly Region[]): Uint8Array {
  const kept = new Uint8Array(bytes.length - damaged.reduce((sum, r) => sum + r.bytes, 0));
  let from = 0;
  let to = 0;
  for (const region of [...damaged, { offset: bytes.length, bytes: 0 }]) {
    kept.set(bytes.subarray(from, region.offset), to);
    to += region.offset - from;
    from = region.offset + region.bytes;
  }
  return kept;
}

/**
 * The changes a region held that no file holds now: sequence numbers have no gaps, so they are the
 * ones between the newest change before it (in the snapshot or the journal) and the first record after it.
 */
function lostChanges(contents: JournalContents, region: Region, snapshotSeq: number): SetAside["lost"] {
  const next = contents.records[region.recordsBefore]?.seq;
  if (next === undefined) return undefined;
  let before = snapshotSeq;
  for (let i = 0; i < region.recordsBefore; i++) before = Math.max(before, contents.records[i]!.seq);
  return next > before + 1 ? { from: before + 1, to: next - 1 } : undefined;
}

/** The report as lines for the operator. */
export function repairLines(report: RepairReport): string[] {
  const state = `${report.accounts} accounts holding ${report.total} in total`;
  if (!report.repaired) {
    const why = report.found ? `every byte of ${report.journal} is a valid record` : `there is no journal ${report.journal}`;
    return [`Nothing to repair: ${why}; the bank starts with ${state}.`];
  }
  const lines = [
    `Kept all ${report.kept} valid records of ${report.journal} (${
      report.replayed === 0 ? "the snapshot already held them all" : `${report.replayed} newer than the snapshot, now written into ${report.snapshot}`
    }).`,
    `Set aside ${report.setAside.length} unreadable ${report.setAside.length === 1 ? "region" : "regions"}:`,
  ];
  for (const s of report.setAside) {
    const what = s.tail
      ? "after the last valid record (a write cut short by a crash, or a damaged last record)"
      : s.lost === undefined
      ? "no change is missing around it"
      : s.lost.from === s.lost.to
      ? `change ${s.lost.from} was in it and could not be read`
      : `changes ${s.lost.from}–${s.lost.to} (${s.lost.to - s.lost.from + 1}) were in it and could not be read`;
    lines.push(`  ${s.bytes} bytes at byte ${s.offset} -> ${s.file}: ${what}`);
  }
  lines.push(`The bank now starts with every readable change: ${state}.`);
  return lines;
}
