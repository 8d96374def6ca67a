/** An exclusive claim on a data file, so two banks never write one ledger (each would lose the other's changes). */
import { promises as fs } from "node:fs";
import process from "node:process";
import { removeIfExists } from "./files.ts";

/** A held lock; release it at shutdown. After kill -9 the file stays, and the next start sees its owner is gone. */
export interface DataLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `<data>.lock`; throws when a live process holds it. */
export async function lockData(data: string): Promise<DataLock> {
  const path = `${data}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(path, `${process.pid}\n`, { flag: "wx" });
      return { release: () => removeIfExists(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number((await fs.readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      throw new LockedError(`${data} is in use by another bank (process ${owner}); stop it first or use another data file`);
    }
    // The owner died without releasing (kill -9): the claim is stale.
    await removeIfExists(path);
  }
  throw new LockedError(`${data} could not be locked: another bank keeps claiming it`);
}

/** Another live bank holds the data file. */
export class LockedError extends Error {
  override name = "LockedError";
}
