/** A small typed view of sql.js: @types/sql.js lags the library (no BigInt reads). */
import initSqlJs from "sql.js";

/** A prepared statement, as much of it as the ledger uses. */
export interface Statement {
  bind(values: readonly (string | number | null)[]): boolean;
  step(): boolean;
  /** The current row; with useBigInt, INTEGER columns come back as exact bigints. */
  get(params: null, config: { useBigInt: true }): (bigint | number | string | null)[];
  get(): (number | string | null)[];
  reset(): void;
  free(): void;
}

/** A sql.js database, as much of it as the ledger uses. */
export interface Database {
  run(sql: string): void;
  prepare(sql: string): Statement;
  export(): Uint8Array;
  close(): void;
}

type SqlJs = { Database: new (data?: Uint8Array) => Database };

let module: Promise<SqlJs> | undefined;

/** Opens a database in memory, from the bytes of a SQLite file or empty. Throws on a bad file. */
export async function openDatabase(bytes?: Uint8Array): Promise<Database> {
  module ??= initSqlJs() as unknown as Promise<SqlJs>;
  const { Database } = await module;
  return new Database(bytes);
}
