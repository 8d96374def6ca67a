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

/**
 * The accounts of this bank: an in-memory SQLite database, the store of record (snapshots are its file
 * bytes), with a plain map of every balance in front of it for reads and checks. Changes reach the map
 * at once and the SQLite table in groups (`flush`), which the ledger calls before it acknowledges any of
 * them: a deposit costs no trip into wasm of its own, a group one statement.
 */
export class AccountTable {
  #db: Database;
  #statements!: ReturnType<typeof prepare>;
  readonly #balances = new Map<number, bigint>();
  /** Changes not yet in the SQLite table: account -> its balance now (undefined: closed). */
  readonly #unflushed = new Map<number, bigint | undefined>();
  #total = 0n;
  /** The highest account number in use; undefined when it must be looked for again (it was closed). */
  #highest: number | undefined = MIN_ACCOUNT - 1;

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
    table.#loadRows();
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

  /** Fills the map from the rows, in two strings (two values out of wasm rather than two per row), and the totals. */
  #loadRows(): void {
    // One aggregate query reads the rows once, so both lists are in the same order.
    const rows = this.#db.prepare("SELECT group_concat(id, ' '), group_concat(balance, ' ') FROM accounts");
    rows.step();
    const [ids, balances] = rows.get() as [string | null, string | null];
    rows.free();
    if (ids === null || balances === null) return;
    const accounts = ids.split(" ");
    const amounts = balances.split(" ");
    for (let i = 0; i < accounts.length; i++) {
      const account = Number(accounts[i]);
      const balance = BigInt(amounts[i]!);
      this.#balances.set(account, balance);
      this.#total += balance;
      if (account > this.#highest!) this.#highest = account;
    }
  }

  /** The balance, or undefined when the account does not exist. */
  balance(account: AccountNumber): Amount | undefined {
    return this.#balances.get(account) as Amount | undefined;
  }

  /**
   * Changes one account from `before` to `after` (undefined: no account), keeping the totals.
   * The caller knows `before` already, which spares a lookup on the hot path.
   */
  write(account: AccountNumber, before: Amount | undefined, after: Amount | undefined): void {
    if (after === undefined) {
      this.#balances.delete(account);
      if (account === this.#highest) this.#highest = undefined;
    } else {
      // Bounds are checked here, in bigint: SQLite would silently turn an overflow into REAL.
      if (after < 0n || after > MAX_AMOUNT) throw new RangeError(`balance out of range: ${after}`);
      this.#balances.set(account, after);
      if (this.#highest !== undefined && account > this.#highest) this.#highest = account;
    }
    this.#unflushed.set(account, after);
    this.#total += (after ?? 0n) - (before ?? 0n);
  }

  /**
   * Brings the SQLite table up to date with every change so far: one statement for the balances set
   * and one for the accounts closed, in one transaction.
   */
  flush(): void {
    if (this.#unflushed.size === 0) return;
    let set = "";
    let closed = "";
    for (const [account, balance] of this.#unflushed) {
      if (balance === undefined) closed += closed === "" ? `[${account}` : `,${account}`;
      else set += set === "" ? `{"${account}":${balance}` : `,"${account}":${balance}`;
    }
    this.#unflushed.clear();
    const { begin, commit, upsertAll, removeAll } = this.#statements;
    begin.step();
    begin.reset();
    // An account closed and opened again since the last flush is in one of the two, never both.
    if (set !== "") run(upsertAll, `${set}}`);
    if (closed !== "") run(removeAll, `${closed}]`);
    commit.step();
    commit.reset();
  }

  /** A free account number: the one after the highest, else the lowest gap; undefined when full. */
  freeNumber(): AccountNumber | undefined {
    if (this.#highest === undefined) {
      this.#highest = MIN_ACCOUNT - 1;
      for (const account of this.#balances.keys()) if (account > this.#highest) this.#highest = account;
    }
    if (this.#highest < MAX_ACCOUNT) return (this.#highest + 1) as AccountNumber;
    for (let account = MIN_ACCOUNT; account <= MAX_ACCOUNT; account++) {
      if (!this.#balances.has(account)) return account as AccountNumber;
    }
    return undefined;
  }

  /** Sum of all balances, exact (it may exceed 2^63 − 1). */
  total(): bigint {
    return this.#total;
  }

  /** Number of accounts. */
  count(): number {
    return this.#balances.size;
  }

  /**
   * A page of accounts from the SQLite table, which holds every acknowledged change (changes reach it just
   * before their acknowledgement); read-only, prepared per call: the monitor page asks, not clients.
   */
  page(query: AccountQuery): AccountPage {
    if (!/^[0-9]*$/.test(query.search)) throw new RangeError("search must be digits");
    const where = query.search === "" ? "" : `WHERE CAST(id AS TEXT) LIKE '%${query.search}%'`;
    const order = `${query.sort === "balance" ? "balance" : "id"} ${query.descending ? "DESC" : "ASC"}, id`;
    let matching = this.#balances.size;
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

  /** The sequence number of the last journal record this table includes. */
  get appliedSeq(): number {
    const { getSeq } = this.#statements;
    const seq = getSeq.step() ? (getSeq.get()[0] as number) : 0;
    getSeq.reset();
    return seq;
  }

  /** The whole database as SQLite file bytes, stamped with the last journal record it includes. */
  export(appliedSeq: number): Uint8Array {
    this.flush();
    run(this.#statements.setSeq, appliedSeq);
    const bytes = this.#db.export();
    // sql.js frees prepared statements on export.
    this.#statements = prepare(this.#db);
    return bytes;
  }

  /** Frees the database. */
  close(): void {
    this.#db.close();
  }
}

function run(statement: Statement, value: string | number): void {
  statement.bind([value]);
  statement.step();
  statement.reset();
}

function prepare(db: Database) {
  return {
    begin: db.prepare("BEGIN"),
    commit: db.prepare("COMMIT"),
    // json_each reads integers exactly as int64; the bounds were checked in bigint by write().
    upsertAll: db.prepare(
      `INSERT INTO accounts (id, balance) SELECT CAST(key AS INTEGER), value FROM json_each(?) WHERE true
         ON CONFLICT(id) DO UPDATE SET balance = excluded.balance`,
    ),
    removeAll: db.prepare("DELETE FROM accounts WHERE id IN (SELECT value FROM json_each(?))"),
    getSeq: db.prepare("SELECT value FROM meta WHERE key = 'seq'"),
    setSeq: db.prepare("INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
  } satisfies Record<string, Statement>;
}
