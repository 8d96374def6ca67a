/**
 * The disk's own speed, so a reader can tell a disk-bound row from a CPU-bound one: fdatasync latency
 * one at a time, and how many fdatasyncs per second it completes with one and with four in flight on
 * one file (what the bank's journal does), measured in the temp dir the banks use.
 */
import { Buffer } from "node:buffer";
import { closeSync, fdatasyncSync, openSync, promises as fs, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Samples } from "./loadgen.ts";
import { tempDir } from "./procs.ts";
import { f0, f3 } from "./context.ts";

/** What the disk did. */
export interface DiskFigures {
  /** Latency of a 40-byte append + fdatasync, one at a time. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** fdatasyncs completed per second with 1 and with 4 in flight (each after its own 40-byte append). */
  readonly syncsPerSec1: number;
  readonly syncsPerSec4: number;
}

const RECORD = Buffer.alloc(40, 0x41);
/** Room a probe may fill: 100,000 records of 40 bytes, more than a probe of a few seconds takes. */
const PREALLOCATED_BYTES = 4 * 1024 * 1024;

/** Times `count` appends of 40 bytes, each followed by fdatasync, on this thread. */
function latency(path: string, count: number): { p50Ms: number; p99Ms: number } {
  const fd = openSync(path, "a");
  const samples = new Samples();
  try {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      writeSync(fd, RECORD);
      fdatasyncSync(fd);
      samples.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  const s = samples.summary();
  return { p50Ms: s.p50, p99Ms: s.p99 };
}

/** How a sync-rate probe writes. */
export interface SyncRateOptions {
  /** Writers, each writing 40 bytes then syncing through the thread pool. */
  readonly inFlight: number;
  readonly ms: number;
  /**
   * Overwrite a file already written to its full length instead of appending: an fdatasync then has the
   * data to write but no new file size (no inode) to record.
   */
  readonly preallocated?: boolean;
}

/** fdatasyncs per second on one file, as `options` say. */
export async function syncRate(path: string, options: SyncRateOptions): Promise<number> {
  const file = await fs.open(path, options.preallocated ? "w+" : "a");
  let done = 0;
  let position = 0;
  const room = options.preallocated ? PREALLOCATED_BYTES : Infinity;
  try {
    if (options.preallocated) {
      writeSync(file.fd, Buffer.alloc(PREALLOCATED_BYTES));
      await file.sync();
    }
    const started = performance.now();
    const end = started + options.ms;
    await Promise.all(Array.from({ length: options.inFlight }, async () => {
      while (performance.now() < end && position + RECORD.length <= room) {
        if (options.preallocated) writeSync(file.fd, RECORD, 0, RECORD.length, position);
        else writeSync(file.fd, RECORD);
        position += RECORD.length;
        await file.datasync();
        done++;
      }
    }));
    return done / ((performance.now() - started) / 1000);
  } finally {
    await file.close();
  }
}

/** Measures the disk: latency over `count` syncs, rates over `rateMs` each. */
export async function probeDisk(count = 200, rateMs = 1000): Promise<DiskFigures> {
  const path = join(tempDir("fsync"), "probe");
  const { p50Ms, p99Ms } = latency(path, count);
  const syncsPerSec1 = await syncRate(path, { inFlight: 1, ms: rateMs });
  const syncsPerSec4 = await syncRate(path, { inFlight: 4, ms: rateMs });
  return { p50Ms, p99Ms, syncsPerSec1, syncsPerSec4 };
}

/** One line: "fdatasync p50 … ms p99 … ms; … syncs/s with 1 in flight, … with 4". */
export function formatDisk(d: DiskFigures): string {
  return `fdatasync p50 ${f3(d.p50Ms)} ms p99 ${f3(d.p99Ms)} ms; ${f0(d.syncsPerSec1)} syncs/s with 1 in flight, ` +
    `${f0(d.syncsPerSec4)} with 4`;
}

/** The file system holding `dir`: "ext4 on /dev/vda". */
export function fileSystemOf(dir: string): string {
  let found = "?";
  let best = -1;
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [device, mountPoint, type] = line.split(" ");
    if (mountPoint === undefined || type === undefined) continue;
    const under = dir === mountPoint || dir.startsWith(mountPoint.endsWith("/") ? mountPoint : `${mountPoint}/`);
    if (under && mountPoint.length > best) {
      best = mountPoint.length;
      found = `${type} on ${device}`;
    }
  }
  return found;
}
