/**
 * The journal's write path with several batches syncing at once: every append resolves only once its
 * record is in the file, and appends resolve in the order they were made.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeRecords, Journal, readJournal } from "../../src/ledger/journal.ts";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function journalPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "bank-journal-write-"));
  dirs.push(dir);
  return join(dir, "bank.db.journal");
}

async function openJournal(path: string): Promise<Journal> {
  return Journal.open(path, await readJournal(path));
}

/** What a restart would read, after the journal is closed. */
async function reopen(path: string) {
  const contents = await readJournal(path);
  await (await Journal.open(path, contents)).close();
  return contents;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Journal write path", () => {
  it("resolves appends in order, each only once its record is in the file, across many batches", async () => {
    const path = journalPath();
    const journal = await openJournal(path);
    const resolved: number[] = [];
    const appends: Promise<void>[] = [];
    let seq = 0;
    // Batches of 1 to 20 records in successive turns, so several fdatasyncs are in flight together.
    for (let turn = 0; turn < 60; turn++) {
      for (let i = 0; i <= turn % 20; i++) {
        const record = { seq: ++seq, text: `S ${10000 + (seq % 50)} ${seq}` };
        appends.push(journal.append(record).then(() => {
          const onFile = decodeRecords(readFileSync(path)).records;
          assert.ok(onFile.some((r) => r.seq === record.seq), `record ${record.seq} resolved before it was in the file`);
          resolved.push(record.seq);
        }));
      }
      if (turn % 3 !== 0) await nextTurn();
    }
    await Promise.all(appends);
    assert.deepEqual(resolved, Array.from({ length: seq }, (_, i) => i + 1));
    assert.equal(journal.size, readFileSync(path).length);
    await journal.close();
    const { records, tornBytes } = await reopen(path);
    assert.equal(tornBytes, 0);
    assert.deepEqual(records.map((r) => r.seq), Array.from({ length: seq }, (_, i) => i + 1));
  });

  it("compacts only once the batches in flight are on disk, keeping every record after the offset", async () => {
    const path = journalPath();
    const journal = await openJournal(path);
    await journal.append({ seq: 1, text: "S 10000 1" });
    const offset = journal.size;
    const later = [2, 3, 4].map((seq) => journal.append({ seq, text: `S 10000 ${seq}` }));
    await nextTurn();
    const more = [5, 6].map((seq) => journal.append({ seq, text: `S 10000 ${seq}` }));
    await Promise.all([journal.compact(offset), ...later, ...more]);
    assert.equal(journal.size, readFileSync(path).length, "after a compaction the size is the new file's");
    // Again, on the compacted file: appends and a second compaction must land on record boundaries.
    await Promise.all([7, 8].map((seq) => journal.append({ seq, text: `S 10000 ${seq}` })));
    const second = journal.size;
    await journal.append({ seq: 9, text: "S 10000 9" });
    await journal.compact(second);
    await journal.append({ seq: 10, text: "S 10000 10" });
    await journal.close();
    const { records, tornBytes } = await reopen(path);
    assert.equal(tornBytes, 0);
    assert.deepEqual(records.map((r) => r.seq), [9, 10]);
  });
});
