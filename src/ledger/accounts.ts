/** The accounts table in sql.js: every balance an exact bigint; synchronous, no disk, no sockets. */
import type { Database, Statement } from "./sqljs.ts";
import { openDatabase } from "./sqljs.ts";
import { type AccountNumber, type Amount, MAX_ACCOUNT, MAX_AMOUNT, MIN_ACCOUNT } from "../protocol/values.ts";

/** Why a ledger operation was refused. */
export type LedgerFailure =
  | "no_such_account"
  | "insufficient_funds"
  | "balance_overflow"
  | "account_not_empty"
  | "no_free_accounts"
  | "store_failed";

/** A refused ledger operation; the ledger is unchanged. */
export class LedgerError extends Error {
  constructor(readonly reason: LedgerFailure, readonly account?: AccountNumber, options?: ErrorOptions) {
    super(account === undefined ? reason : `${reason} (${account})`, options);
    this.name = "LedgerError";
  }
}

/** A snapshot that cannot be trusted: it is reported, never replaced by an empty bank. */
export class CorruptStoreError extends Error {
  override name = "CorruptStoreError";
}

const BIG = { useBigInt: true } as const;

/** Which accounts to list: sorted by number or balance, optionally only numbers containing `search` (digits). */
export interface AccountQuery {
  readonly offset: number;
  readonly limit: number;
  readonly sort: "number" | "balance";
  readonly descending: boolean;
  readonly search: string;
}

/** One page of accounts and how many match in all. */
export interface AccountPage {
  readonly matching: number;
  readonly rows: readonly (readonly [AccountNumber, Amount])[];
}

const SCHEMA = `
  -- One connection, nothing to share: keep SQLite's rollback journal in memory rather than as a file in
  -- sql.js's emulated file system, which costs a path lookup, create and delete per transaction.
  PRAGMA locking_mode = EXCLUSIVE;
  PRAGMA journal_mode = MEMORY;
  CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** The accounts of this bank, in an in-memory SQLite database. */
export class AccountTable {
  #db: Database;
  #statements!: ReturnType<typeof prepare>;
  #inTransaction = false;
  #total = 0n;
  #count = 0;

  private constructor(db: Database) {
    this.#db = db;
    this.#statements = prepare(db);
  }

  /** Opens from the bytes of a snapshot (or empty), checking every row before trusting it. */
  static async open(bytes?: Uint8Array): Promise<AccountTable> {
    let db: Database;
    try {
      db = await openDatabase(bytes);
      db.run(SCHEMA);
    } catch (error) {
      throw new CorruptStoreError(`the snapshot is not a readable SQLite database (${String(error)})`);
    }
    const table = new AccountTable(db);
    table.#checkInvariants();
    table.#countRows();
    return table;
  }

  #checkInvariants(): void {
    const bad = this.#db.prepare(
      `SELECT COUNT(*) FROM accounts WHERE typeof(id) != 'integer' OR id < ${MIN_ACCOUNT} OR id > ${MAX_ACCOUNT}
         OR typeof(balance) != 'integer' OR balance < 0`,
    );
    bad.step();
    const count = bad.get()[0] as number;
    bad.free();
    if (count > 0) throw new CorruptStoreError(`the snapshot holds ${count} invalid account rows`);
  }

  /** Groups the writes of one event-loop turn into one SQLite transaction (much faster in sql.js). */
  #write(): ReturnType<typeof prepare> {
    if (!this.#inTransaction) {
      this.#db.run("BEGIN");
      this.#inTransaction = true;
      setImmediate(() => this.#commit());
    }
    return this.#statements;
  }

  #commit(): void {
    if (!this.#inTransaction) return;
    this.#inTransaction = false;
    this.#db.run("COMMIT");
  }

  /** The balance, or undefined when the account does not exist. */
  balance(account: AccountNumber): Amount | undefined {
    const { select } = this.#statements;
    select.bind([account]);
    try {
      return select.step() ? (select.get(null, BIG)[0] as bigint) : undefined;
    } finally {
      select.reset();
    }
  }

  /**
   * Changes one account from `before` to `after` (undefined: no account), keeping the totals.
   * The caller knows `before` already, which spares a lookup on the hot path.
   */
  write(account: AccountNumber, before: Amount | undefined, after: Amount | undefined): void {
    const statements = this.#write();
    if (after === undefined) {
      statements.remove.bind([account]);
      statements.remove.step();
      statements.remove.reset();
    } else {
      // Bounds are checked here, in bigint: SQLite would silently turn an overflow into REAL.
      if (after < 0n || after > MAX_AMOUNT) throw new RangeError(`balance out of range: ${after}`);
      statements.upsert.bind([account, after.toString()]);
      statements.upsert.step();
      statements.upsert.reset();
    }
    this.#total += (after ?? 0n) - (before ?? 0n);
    this.#count += (after === undefined ? 0 : 1) - (before === undefined ? 0 : 1);
  }

  /** A free account number: the one after the highest, else the lowest gap; undefined when full. */
  freeNumber(): AccountNumber | undefined {
    const { highest, gap } = this.#statements;
    highest.step();
    const next = highest.get()[0] as number;
    highest.reset();
    if (next <= MAX_ACCOUNT) return next as AccountNumber;
    if (this.balance(MIN_ACCOUNT as AccountNumber) === undefined) return MIN_ACCOUNT as AccountNumber;
    const found = gap.step() ? (gap.get()[0] as number) : undefined;
    gap.reset();
    return found as AccountNumber | undefined;
  }

  /** Sum of all balances, exact (it may exceed 2^63 − 1). */
  total(): bigint {
    return this.#total;
  }

  /** Number of accounts. */
  count(): number {
    return this.#count;
  }

  /** A page of accounts; read-only, prepared per call (it is rare: the monitor page asks, not clients). */
  page(query: AccountQuery): AccountPage {
    if (!/^[0-9]*$/.test(query.search)) throw new RangeError("search must be digits");
    const where = query.search === "" ? "" : `WHERE CAST(id AS TEXT) LIKE '%${query.search}%'`;
    const order = `${query.sort === "balance" ? "balance" : "id"} ${query.descending ? "DESC" : "ASC"}, id`;
    let matching = this.#count;
    if (where !== "") {
      const counted = this.#db.prepare(`SELECT COUNT(*) FROM accounts ${where}`);
      counted.step();
      matching = counted.get()[0] as number;
      counted.free();
    }
    const select = this.#db.prepare(`SELECT id, balance FROM accounts ${where} ORDER BY ${order} LIMIT ? OFFSET ?`);
    const rows: [AccountNumber, Amount][] = [];
    select.bind([query.limit, query.offset]);
    while (select.step()) {
      const [id, balance] = select.get(null, BIG) as [bigint, bigint];
      rows.push([Number(id) as AccountNumber, balance]);
    }
    select.free();
    return { matching, rows };
  }

  /** Reads the totals from the rows; afterwards `write` keeps them, so BA and BN cost no scan. */
  #countRows(): void {
    // SQLite's SUM overflows past 2^63 − 1: summing the high and low 32 bits apart stays in int64 for 90,000 rows.
    const sums = this.#db.prepare(
      "SELECT COALESCE(SUM(balance >> 32), 0), COALESCE(SUM(balance & 4294967295), 0), COUNT(*) FROM accounts",
    );
    sums.step();
    const [high, low, count] = sums.get(null, BIG) as [bigint, bigint, bigint];
    sums.free();
    this.#total = (high << 32n) + low;
    this.#count = Number(count);
  }

  /** The sequence number of the last journal record this table includes. */
  get appliedSeq(): number {
    const { getSeq } = this.#statements;
    const seq = getSeq.step() ? (getSeq.get()[0] as number) : 0;
    getSeq.reset();
    return seq;
  }

  /** The whole database as SQLite file bytes, stamped with the last journal record it includes. */
  export(appliedSeq: number): Uint8Array {
    const { setSeq } = this.#write();
    setSeq.bind([appliedSeq]);
    setSeq.step();
    setSeq.reset();
    this.#commit();
    const bytes = this.#db.export();
    // sql.js frees prepared statements on export.
    this.#statements = prepare(this.#db);
    return bytes;
  }

  /** Frees the database. */
  close(): void {
    this.#commit();
    this.#db.close();
  }
}

function prepare(db: Database) {
  return {
    select: db.prepare("SELECT balance FROM accounts WHERE id = ?"),
    upsert: db.prepare(
      "INSERT INTO accounts (id, balance) VALUES (?, CAST(? AS INTEGER)) ON CONFLICT(id) DO UPDATE SET balance = excluded.balance",
    ),
    remove: db.prepare("DELETE FROM accounts WHERE id = ?"),
    highest: db.prepare(`SELECT COALESCE(MAX(id), ${MIN_ACCOUNT - 1}) + 1 FROM accounts`),
    gap: db.prepare(
      `SELECT a.id + 1 FROM accounts a WHERE a.id < ${MAX_ACCOUNT}
         AND NOT EXISTS (SELECT 1 FROM accounts b WHERE b.id = a.id + 1) ORDER BY a.id LIMIT 1`,
    ),
    getSeq: db.prepare("SELECT value FROM meta WHERE key = 'seq'"),
    setSeq: db.prepare("INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
  } satisfies Record<string, Statement>;
}
