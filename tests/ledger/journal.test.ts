/**
 * Reading the journal: damage in the middle is told apart from a torn tail by resynchronizing on the
 * next record whose length and CRC-32 check out, so no valid record after damage is ever lost.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeRecords, encodeRecord, type JournalRecord } from "../../src/ledger/journal.ts";
import { Rng } from "../helpers/random.ts";

const records: JournalRecord[] = Array.from({ length: 12 }, (_, i) => ({
  seq: i + 1,
  text: i % 5 === 4 ? `X ${10000 + i}` : `S ${10000 + (i % 3)} ${i * 1_000_003}`,
}));
const encoded = records.map(encodeRecord);
const journal = Buffer.concat(encoded);
/** Byte offset where record i starts. */
const startOf = (i: number) => encoded.slice(0, i).reduce((sum, r) => sum + r.length, 0);

describe("decodeRecords", () => {
  it("reads a clean journal whole", () => {
    assert.deepEqual(decodeRecords(journal), { records, damaged: [], tornBytes: 0, size: journal.length });
  });

  it("sets aside exactly a middle record with any one byte flipped, and keeps every record after it", () => {
    const k = 5;
    for (let byte = 0; byte < encoded[k]!.length; byte++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const damaged = Buffer.from(journal);
        damaged[startOf(k) + byte]! ^= mask;
        const read = decodeRecords(damaged);
        const where = `byte ${byte} of record ${k} xor ${mask}`;
        assert.deepEqual(read.records, records.filter((_, i) => i !== k), where);
        assert.deepEqual(read.damaged, [{ offset: startOf(k), bytes: encoded[k]!.length, recordsBefore: k }], where);
        assert.equal(read.tornBytes, 0, where);
      }
    }
  });

  it("tells damage from a torn tail: a bad or cut last record with nothing valid after it is torn", () => {
    const last = records.length - 1;
    const flipped = Buffer.from(journal);
    flipped[startOf(last) + 10]! ^= 0x04;
    for (const [what, bytes] of [
      ["flipped last record", flipped],
      ["cut last record", journal.subarray(0, journal.length - 3)],
      ["cut header", journal.subarray(0, startOf(last) + 5)],
    ] as const) {
      const read = decodeRecords(bytes);
      assert.deepEqual(read.records, records.slice(0, last), what);
      assert.deepEqual(read.damaged, [], what);
      assert.equal(read.tornBytes, bytes.length - startOf(last), what);
    }
  });

  it("keeps every valid record around several damaged runs of random garbage, and reports each run", () => {
    const rng = new Rng(0xda7a);
    for (let round = 0; round < 50; round++) {
      // Garbage inserted before records 2 and 7 and at the end; each run resynchronizes on the next record.
      const garbage = () => Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255)));
      const [g1, g2, tail] = [garbage(), garbage(), garbage()];
      const bytes = Buffer.concat([...encoded.slice(0, 2), g1, ...encoded.slice(2, 7), g2, ...encoded.slice(7), tail]);
      const read = decodeRecords(bytes);
      assert.deepEqual(read.records, records, `round ${round}`);
      assert.deepEqual(read.damaged, [
        { offset: startOf(2), bytes: g1.length, recordsBefore: 2 },
        { offset: startOf(7) + g1.length, bytes: g2.length, recordsBefore: 7 },
      ], `round ${round}`);
      assert.equal(read.tornBytes, tail.length, `round ${round}`);
    }
  });

  it("resynchronizes after a zeroed block and after a record cut short in the middle", () => {
    const zeroed = Buffer.from(journal);
    zeroed.fill(0, startOf(3), startOf(6));
    const cut = Buffer.concat([...encoded.slice(0, 4), encoded[4]!.subarray(0, 9), ...encoded.slice(5)]);
    for (const [what, bytes, lost] of [["zeroed", zeroed, [3, 4, 5]], ["cut", cut, [4]]] as const) {
      const read = decodeRecords(bytes);
      assert.deepEqual(read.records, records.filter((_, i) => !(lost as readonly number[]).includes(i)), what);
      assert.equal(read.damaged.length, 1, what);
      assert.equal(read.damaged[0]!.offset, startOf(lost[0]!), what);
      assert.equal(read.tornBytes, 0, what);
    }
  });
});
