/**
 * The reference model of a ledger: a Map of account number to bigint balance, obviously right.
 * The conformance suite runs the same tests against it and against DurableLedger.
 */
import type { Ledger } from "../../src/ledger/ledger.ts";
import { LedgerError } from "../../src/ledger/ledger.ts";
import { type AccountNumber, type Amount, MAX_ACCOUNT, MAX_AMOUNT, MIN_ACCOUNT } from "../../src/protocol/values.ts";

/** An in-memory ledger; refusals are rejected promises and leave it unchanged. */
export class ModelLedger implements Ledger {
  readonly accounts = new Map<number, bigint>();
  /** The highest account number in use (MIN_ACCOUNT − 1 when none); undefined when it must be recomputed. */
  #highest: number | undefined = MIN_ACCOUNT - 1;

  /** The number after the highest in use, else the lowest free one (the policy DurableLedger documents). */
  open(): Promise<AccountNumber> {
    if (this.#highest === undefined) {
      this.#highest = MIN_ACCOUNT - 1;
      for (const account of this.accounts.keys()) if (account > this.#highest) this.#highest = account;
    }
    let next = this.#highest + 1;
    if (next > MAX_ACCOUNT) {
      next = MIN_ACCOUNT;
      while (next <= MAX_ACCOUNT && this.accounts.has(next)) next++;
      if (next > MAX_ACCOUNT) return Promise.reject(new LedgerError("no_free_accounts"));
    }
    this.accounts.set(next, 0n);
    if (next > this.#highest) this.#highest = next;
    return Promise.resolve(next as AccountNumber);
  }

  deposit(account: AccountNumber, amount: Amount): Promise<void> {
    const balance = this.accounts.get(account);
    if (balance === undefined) return Promise.reject(new LedgerError("no_such_account", account));
    if (balance + amount > MAX_AMOUNT) return Promise.reject(new LedgerError("balance_overflow", account));
    this.accounts.set(account, balance + amount);
    return Promise.resolve();
  }

  withdraw(account: AccountNumber, amount: Amount): Promise<void> {
    const balance = this.accounts.get(account);
    if (balance === undefined) return Promise.reject(new LedgerError("no_such_account", account));
    if (balance < amount) return Promise.reject(new LedgerError("insufficient_funds", account));
    this.accounts.set(account, balance - amount);
    return Promise.resolve();
  }

  close(account: AccountNumber): Promise<void> {
    const balance = this.accounts.get(account);
    if (balance === undefined) return Promise.reject(new LedgerError("no_such_account", account));
    if (balance !== 0n) return Promise.reject(new LedgerError("account_not_empty", account));
    this.accounts.delete(account);
    if (account === this.#highest) this.#highest = undefined;
    return Promise.resolve();
  }

  balance(account: AccountNumber): Promise<Amount> {
    const balance = this.accounts.get(account);
    return balance === undefined ? Promise.reject(new LedgerError("no_such_account", account)) : Promise.resolve(balance);
  }

  total(): bigint {
    let sum = 0n;
    for (const balance of this.accounts.values()) sum += balance;
    return sum;
  }

  count(): number {
    return this.accounts.size;
  }
}
