/** An exclusive claim on a data file, so two banks never write one ledger (each would lose the other's changes). */
import { promises as fs } from "node:fs";
import { openExclusive, PLATFORM, processIdentity, processRunning } from "../platform.ts";
import { removeIfExists } from "./files.ts";

/** A held lock; release it at shutdown. After kill -9 the file stays, and the next start sees its owner is gone. */
export interface DataLock {
  release(): Promise<void>;
}

const IN_USE = "stop it first or use another data file";

/**
 * POSIX: `<data>.lock` holds its owner's pid and start time; a claim whose owner is gone, a zombie, or a pid
 * now used by another program is stale and taken over.
 */
async function lockWithOwnerFile(path: string, data: string): Promise<DataLock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(path, `${processIdentity()}\n`, { flag: "wx" });
      return { release: () => removeIfExists(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = await fs.readFile(path, "utf8").catch(() => "");
    if (processRunning(owner)) {
      const pid = owner.trim().split(/\s+/)[0];
      throw new LockedError(`${data} is in use by another bank (process ${pid}); ${IN_USE}`);
    }
    await removeIfExists(path);
  }
  throw new LockedError(`${data} could not be locked: another bank keeps claiming it`);
}

/** Windows: `<data>.lock` opened with no sharing; Windows drops the claim when its owner ends, however it ends. */
async function lockWithOpenFile(path: string, data: string): Promise<DataLock> {
  let handle: fs.FileHandle;
  try {
    handle = await openExclusive(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EBUSY") throw error;
    throw new LockedError(`${data} is in use by another bank; ${IN_USE}`);
  }
  await handle.truncate(0);
  await handle.write(`${processIdentity()}\n`);
  return {
    release: async () => {
      await handle.close();
      // A bank starting this very moment may hold it already (then Windows refuses the delete): leave it to that one.
      await removeIfExists(path).catch(() => {});
    },
  };
}

/** Takes `<data>.lock`; throws LockedError when a running bank holds it. */
export function lockData(data: string): Promise<DataLock> {
  const path = `${data}.lock`;
  return PLATFORM === "windows" ? lockWithOpenFile(path, data) : lockWithOwnerFile(path, data);
}

/** Another running bank holds the data file. */
export class LockedError extends Error {
  override name = "LockedError";
}
