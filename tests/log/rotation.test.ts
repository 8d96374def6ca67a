/**
 * The log file's size bound: past the limit the file moves to `<log>.1` (older ones shift up), only the
 * configured number of rotated files is kept, and no line is split or lost among the files kept.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { logCommand, setUpLogging, stopLogging } from "../../src/log.ts";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("log rotation", () => {
  it("keeps the live file and maxFiles rotated ones, each within maxBytes, the newest lines last", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bank-log-rotation-"));
    dirs.push(dir);
    const file = join(dir, "logs/bank.log");
    const maxBytes = 2000;
    await setUpLogging({ file, process: "serve", rotation: { maxBytes, maxFiles: 2 } });
    let n = 0;
    try {
      // Several flushes (one per 100 ms) of about 800 bytes each: a rotation every two or three.
      for (let flush = 0; flush < 12; flush++) {
        for (let i = 0; i < 4; i++) logCommand('"127.0.0.1:5000"', `AB ${10000 + n++}/127.0.0.1`, "AB 0", 0.01);
        await sleep(130);
      }
    } finally {
      await stopLogging();
    }
    assert.ok(existsSync(`${file}.2`), "two rotated files");
    assert.ok(!existsSync(`${file}.3`), "no more than maxFiles rotated files");
    const kept: number[] = [];
    for (const path of [`${file}.2`, `${file}.1`, file]) {
      assert.ok(statSync(path).size <= maxBytes, `${path} within the limit`);
      for (const line of readFileSync(path, "utf8").split("\n").filter((l) => l !== "")) {
        const record = JSON.parse(line) as { request: string; process: string; pid: number };
        assert.equal(record.process, "serve");
        assert.equal(record.pid, process.pid);
        kept.push(Number(record.request.slice(3, 8)) - 10000);
      }
    }
    assert.equal(kept.at(-1), n - 1, "the newest line is in the live file");
    assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => n - kept.length + i), "no line lost among the kept files");
    assert.ok(kept.length < n, "the oldest lines were dropped");
  });
});
