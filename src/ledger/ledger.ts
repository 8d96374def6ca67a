/**
 * The ledger: the accounts of this bank. `Ledger` is the interface the server uses;
 * `DurableLedger` keeps the accounts in sql.js and acknowledges a change only once its journal
 * record is on disk (Redis-style AOF + RDB: journal with group commit, periodic snapshots).
 */
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { getLogger } from "@logtape/logtape";
import { type AccountNumber, type Amount, MAX_AMOUNT } from "../protocol/values.ts";
import { type AccountPage, type AccountQuery, type AccountTable, LedgerError } from "./accounts.ts";
import { Journal, readJournal } from "./journal.ts";
import { type DataLock, lockData } from "./lock.ts";
import { assertUndamaged, loadSnapshot, newerRecords, replay, storePaths } from "./recovery.ts";
import { writeSnapshot } from "./snapshot.ts";

export { type AccountPage, type AccountQuery, CorruptStoreError, LedgerError, type LedgerFailure } from "./accounts.ts";

/** A value now, or later while the ledger is briefly held for a snapshot. */
export type MaybePromise<T> = T | Promise<T>;

/** The accounts of one bank. Changes resolve once durable; refusals reject with LedgerError. */
export interface Ledger {
  /** Opens a new account with balance 0 under a free number. */
  open(): Promise<AccountNumber>;
  deposit(account: AccountNumber, amount: Amount): Promise<void>;
  withdraw(account: AccountNumber, amount: Amount): Promise<void>;
  /** Closes an account whose balance is 0. */
  close(account: AccountNumber): Promise<void>;
  balance(account: AccountNumber): MaybePromise<Amount>;
  /** Sum of all balances (may exceed 2^63 − 1). */
  total(): MaybePromise<bigint>;
  /** Number of accounts. */
  count(): MaybePromise<number>;
}

/** Where the ledger keeps its files and how often it snapshots. */
export interface LedgerOptions {
  /** The snapshot file; the journal is `<data>.journal` beside it. */
  readonly data: string;
  readonly snapshotIntervalMs: number;
}

/** What was found on disk at start. */
export interface RecoveryReport {
  readonly accounts: number;
  readonly replayed: number;
  readonly tornBytes: number;
}

interface Undo {
  readonly seq: number;
  readonly account: AccountNumber;
  readonly before: Amount | undefined;
  readonly after: Amount | undefined;
}

const log = getLogger(["bank", "ledger"]);

/** The sql.js ledger with journal and snapshots. */
export class DurableLedger implements Ledger {
  readonly #options: LedgerOptions;
  readonly #table: AccountTable;
  readonly #journal: Journal;
  #seq: number;
  #snapshotSeq: number;
  /** Changes applied in memory whose journal record is not yet on disk, oldest first, from #durableHead. */
  #undurable: Undo[] = [];
  #durableHead = 0;
  /** The newest change's promise: settled once it and every change before it are on disk or undone. */
  #lastChange: Promise<void> = Promise.resolve();
  /** Operations waiting while a snapshot takes a consistent copy; undefined when not held. */
  #held: (() => void)[] | undefined;
  #snapshotting: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** What start-up found on disk. */
  readonly recovery: RecoveryReport;

  readonly #lock: DataLock;

  private constructor(
    options: LedgerOptions,
    lock: DataLock,
    table: AccountTable,
    journal: Journal,
    recovery: RecoveryReport,
  ) {
    this.#options = options;
    this.#lock = lock;
    this.#table = table;
    this.#journal = journal;
    this.#seq = this.#snapshotSeq = table.appliedSeq;
    this.recovery = recovery;
    journal.onDurable = (seq) => this.#markDurable(seq);
    journal.onFailure = (error) => {
      log.error("Journal write failed; {changes} changes not on disk are undone and refused: {error}", {
        event: "store_failed",
        changes: this.#undurable.length - this.#durableHead,
        error: String(error),
      });
      this.#rollBack();
      return new LedgerError("store_failed", undefined, { cause: error });
    };
  }

  /** Loads the snapshot, replays the journal after it, and starts periodic snapshots. */
  static async open(options: LedgerOptions): Promise<DurableLedger> {
    await fs.mkdir(dirname(options.data), { recursive: true });
    const lock = await lockData(options.data);
    let loaded: AccountTable | undefined;
    try {
      const paths = storePaths(options.data);
      const snapshot = await loadSnapshot(paths);
      loaded = snapshot.table;
      // Everything is read and checked before anything on disk is touched: a refusal leaves the files as they were.
      const contents = await readJournal(paths.journal);
      assertUndamaged(contents, paths);
      const records = newerRecords(contents, snapshot, paths);
      const { table } = snapshot;
      const seq = replay(table, records, snapshot.seq);
      const journal = await Journal.open(paths.journal, contents);
      const ledger = new DurableLedger(options, lock, table, journal, {
        accounts: table.count(),
        replayed: records.length,
        tornBytes: contents.tornBytes,
      });
      ledger.#seq = seq;
      ledger.#timer = setInterval(() => void ledger.snapshot().catch(() => {}), options.snapshotIntervalMs);
      ledger.#timer.unref?.();
      return ledger;
    } catch (error) {
      loaded?.close();
      await lock.release();
      throw error;
    }
  }

  open(): Promise<AccountNumber> {
    return this.#mutate(() => {
      const account = this.#table.freeNumber();
      if (account === undefined) throw new LedgerError("no_free_accounts");
      return this.#change(account, undefined, 0n).then(() => account);
    });
  }

  deposit(account: AccountNumber, amount: Amount): Promise<void> {
    return this.#mutate(() => {
      const before = this.#existing(account);
      const after = before + amount;
      if (after > MAX_AMOUNT) throw new LedgerError("balance_overflow", account);
      return this.#change(account, before, after);
    });
  }

  withdraw(account: AccountNumber, amount: Amount): Promise<void> {
    return this.#mutate(() => {
      const before = this.#existing(account);
      const after = before - amount;
      if (after < 0n) throw new LedgerError("insufficient_funds", account);
      return this.#change(account, before, after);
    });
  }

  close(account: AccountNumber): Promise<void> {
    return this.#mutate(() => {
      if (this.#existing(account) !== 0n) throw new LedgerError("account_not_empty", account);
      return this.#change(account, 0n, undefined);
    });
  }

  balance(account: AccountNumber): MaybePromise<Amount> {
    return this.#gate(() => this.#existing(account));
  }

  total(): MaybePromise<bigint> {
    return this.#gate(() => this.#table.total());
  }

  count(): MaybePromise<number> {
    return this.#gate(() => this.#table.count());
  }

  /** A page of the accounts, for the monitor page. */
  accounts(query: AccountQuery): MaybePromise<AccountPage> {
    return this.#gate(() => this.#table.page(query));
  }

  /**
   * Writes a snapshot and drops the journal records it covers. Operations are held only while
   * in-flight records reach the disk and the database is copied; the file is written meanwhile.
   */
  snapshot(): Promise<void> {
    this.#snapshotting ??= this.#writeSnapshot().finally(() => (this.#snapshotting = undefined));
    return this.#snapshotting;
  }

  /** Final snapshot, then closes the files. */
  async shutdown(): Promise<void> {
    clearInterval(this.#timer);
    await this.#snapshotting?.catch(() => {});
    await this.snapshot();
    await this.#journal.close();
    this.#table.close();
    await this.#lock.release();
  }

  async #writeSnapshot(): Promise<void> {
    await this.#journal.drain();
    if (this.#seq === this.#snapshotSeq) return;
    const started = performance.now();
    this.#held = [];
    let bytes: Uint8Array;
    let offset: number;
    let seq: number;
    try {
      await this.#journal.drain();
      seq = this.#seq;
      bytes = this.#table.export(seq);
      offset = this.#journal.lastRecordOffset;
    } finally {
      const held = this.#held;
      this.#held = undefined;
      for (const run of held) run();
    }
    try {
      await writeSnapshot(this.#options.data, bytes);
      this.#snapshotSeq = seq;
      await this.#journal.compact(offset);
      log.info("Snapshot written: {bytes} bytes, {accounts} accounts, {ms} ms", {
        event: "snapshot",
        bytes: bytes.length,
        accounts: this.#table.count(),
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      log.error("Snapshot failed: {error}", { event: "snapshot_failed", error: String(error) });
      throw error;
    }
  }

  #existing(account: AccountNumber): Amount {
    const balance = this.#table.balance(account);
    if (balance === undefined) throw new LedgerError("no_such_account", account);
    return balance;
  }

  /** A change: like #gate, but a refusal always arrives as a rejected promise, never as a throw. */
  #mutate<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return this.#gate(operation);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs now, or after the snapshot copy when held, keeping every connection's order. */
  #gate<T>(operation: () => T): T {
    const held = this.#held;
    if (held === undefined) return this.#evaluate(operation);
    return new Promise((resolve, reject) => {
      held.push(() => {
        try {
          resolve(this.#evaluate(operation));
        } catch (error) {
          reject(error);
        }
      });
    }) as T;
  }

  /**
   * Runs an operation so that no answer rests on a change that might not reach the disk. A read or a
   * refusal computed while changes are still in flight waits for them; if they fail (and are undone),
   * it is computed again on what is really there. A change returns its own promise, settled by the journal.
   */
  #evaluate<T>(operation: () => T): T {
    const inFlight = this.#durableHead < this.#undurable.length ? this.#lastChange : undefined;
    let value: T;
    try {
      value = operation();
    } catch (error) {
      if (inFlight === undefined) throw error;
      return inFlight.then(() => Promise.reject(error), operation) as T;
    }
    if (inFlight === undefined || value instanceof Promise) return value;
    return inFlight.then(() => value, operation) as T;
  }

  /** Applies a change now (undefined: no account); resolves when it is on disk, else undoes it. */
  #change(account: AccountNumber, before: Amount | undefined, after: Amount | undefined): Promise<void> {
    this.#table.write(account, before, after);
    const seq = ++this.#seq;
    this.#undurable.push({ seq, account, before, after });
    const text = after === undefined ? `X ${account}` : `S ${account} ${after}`;
    const change = this.#journal.append({ seq, text });
    this.#lastChange = change;
    return change;
  }

  #markDurable(seq: number): void {
    // The SQLite table is the store of record at every acknowledgement: it catches up before any is sent.
    this.#table.flush();
    const undurable = this.#undurable;
    while (this.#durableHead < undurable.length && undurable[this.#durableHead]!.seq <= seq) this.#durableHead++;
    if (this.#durableHead === undurable.length) {
      this.#undurable = [];
      this.#durableHead = 0;
    }
  }

  /** Undoes every change not on disk, newest first: the journal has just failed every one of them. */
  #rollBack(): void {
    const undurable = this.#undurable;
    // Their records were cut off the file, so their sequence numbers are free again: the journal stays
    // gapless, which is how start-up tells a missing snapshot from a journal that merely follows it.
    const first = undurable[this.#durableHead];
    if (first !== undefined) this.#seq = first.seq - 1;
    for (let i = undurable.length - 1; i >= this.#durableHead; i--) {
      const { account, before, after } = undurable[i]!;
      this.#table.write(account, after, before);
    }
    this.#undurable = [];
    this.#durableHead = 0;
  }
}
