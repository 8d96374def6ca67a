/**
 * `node --import tsx bench/disk_prealloc.ts`: what a preallocated journal would give on this disk.
 * fdatasyncs per second after appending 40 bytes (what the journal does: the file grows, so each sync
 * writes the data and then the inode) against overwriting 40 bytes of a file already written to its
 * full length (the data only), with 1 and 4 in flight, in alternating passes.
 */
import { join } from "node:path";
import process from "node:process";
import { syncRate } from "./disk.ts";
import { cleanUp, tempDir } from "./procs.ts";
import { f0 } from "./context.ts";

const PASSES = Number(process.env.BENCH_PASSES ?? 3);
const MS = 1500;

try {
  const dir = tempDir("prealloc");
  let files = 0;
  // A fresh file each time: an append probe must not start on a file another probe left long.
  const fresh = () => join(dir, `probe-${files++}`);
  console.log("fdatasyncs per second: append / overwrite of a preallocated file (40-byte records)");
  for (let pass = 1; pass <= PASSES; pass++) {
    const cells: string[] = [];
    for (const inFlight of [1, 4]) {
      const append = await syncRate(fresh(), { inFlight, ms: MS });
      const overwrite = await syncRate(fresh(), { inFlight, ms: MS, preallocated: true });
      cells.push(`${inFlight} in flight ${f0(append)} / ${f0(overwrite)} (${f0(100 * (overwrite / append - 1))} %)`);
    }
    console.log(`pass ${pass}: ${cells.join("; ")}`);
  }
} finally {
  cleanUp();
}
