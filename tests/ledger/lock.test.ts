/** The data lock against real processes: a running owner keeps it; a dead, zombie or reused-pid owner does not. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LockedError, lockData } from "../../src/ledger/lock.ts";
import { processIdentity } from "../../src/platform.ts";
import { exitedChild, liveChild, unreapedChild } from "../helpers/processes.ts";

const dir = mkdtempSync(join(tmpdir(), "bank-lock-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A data path whose lock file names `owner`. */
function claimedBy(owner: string): string {
  const data = join(dir, `bank${n++}.db`);
  writeFileSync(`${data}.lock`, `${owner}\n`);
  return data;
}

/** Takes the lock and checks it now names this process; releases it. */
async function takesOver(data: string): Promise<void> {
  const lock = await lockData(data);
  assert.equal(readFileSync(`${data}.lock`, "utf8"), `${processIdentity()}\n`);
  await lock.release();
  assert.ok(!existsSync(`${data}.lock`), "release removes the lock file");
}

describe("data lock", () => {
  it("is refused while its owner runs, naming the data file and the owner", async () => {
    const child = await liveChild();
    try {
      const data = claimedBy(processIdentity(child.pid));
      await assert.rejects(lockData(data), (error: Error) => {
        assert.ok(error instanceof LockedError);
        assert.ok(error.message.includes(data) && error.message.includes(`process ${child.pid}`), error.message);
        return true;
      });
    } finally {
      child.kill();
    }
  });

  it("is taken over from an owner that exited", async () => {
    await takesOver(claimedBy(await exitedChild()));
  });

  it("is taken over from an owner killed with -9 that is still a zombie", async () => {
    const zombie = await unreapedChild();
    try {
      const data = claimedBy(processIdentity(zombie.pid));
      await zombie.kill9();
      await takesOver(data);
    } finally {
      zombie.end();
    }
  });

  it("is taken over when the owner's pid now belongs to another program", async () => {
    const child = await liveChild();
    try {
      const [pid, startTime] = processIdentity(child.pid).split(" ");
      await takesOver(claimedBy(`${pid} ${Number(startTime) + 1}`));
    } finally {
      child.kill();
    }
  });

  it("is taken over from an empty or unreadable lock file", async () => {
    await takesOver(claimedBy(""));
    await takesOver(claimedBy("not a pid"));
  });
});
