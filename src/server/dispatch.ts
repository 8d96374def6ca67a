/** Command -> ledger or peers -> reply line. The only place that decides local versus forwarded. */
import { type AccountRef, type Command, formatCommand } from "../protocol/commands.ts";
import { BankError, type Language, planLine, unreachableLine } from "../protocol/messages.ts";
import { type BankCode, formatAccount } from "../protocol/values.ts";
import { type Ledger, LedgerError, type MaybePromise } from "../ledger/ledger.ts";
import type { RobberyPlan } from "../plan/robbery.ts";
import { ForwardError } from "../peers/directory.ts";

/** What a command can reach: our ledger, other banks, the network plan. */
export interface DispatchContext {
  readonly bankCode: BankCode;
  /** Every address this bank can be reached on (bank code, host, …): accounts naming one are ours, never forwarded. */
  readonly ownAddresses: ReadonlySet<string>;
  readonly language: Language;
  readonly ledger: Ledger;
  /** Sends a canonical command line to the bank `bank`; resolves with its reply line as it came, rejects with ForwardError. */
  forward(bank: BankCode, line: string): Promise<string>;
  /** Scans the network and plans the robbery; `leftOut` counts banks found but left out of the plan. */
  plan(target: bigint): Promise<RobberyPlan & { leftOut: number }>;
}

/** Executes one command; the reply line, without line end. Throws BankError for a refusal. */
export function dispatch(ctx: DispatchContext, command: Command): MaybePromise<string> {
  switch (command.code) {
    case "BC":
      return `BC ${ctx.bankCode}`;
    case "AC":
      return ledgerCall(ctx.ledger.open(), (account) => `AC ${formatAccount(account, ctx.bankCode)}`);
    case "BA":
      return ledgerCall(ctx.ledger.total(), (total) => `BA ${total}`);
    case "BN":
      return ledgerCall(ctx.ledger.count(), (count) => `BN ${count}`);
    case "RP":
      return ctx.plan(command.amount).then((plan) =>
        plan.reachable
          ? planLine(ctx.language, { ...plan, codes: plan.banks.map((b) => b.code) }, plan.leftOut)
          : unreachableLine(ctx.language, plan.target, plan.amount, plan.clients, plan.leftOut)
      );
    default:
      break;
  }
  if (!ctx.ownAddresses.has(command.bank)) {
    return ctx.forward(command.bank, formatCommand(command)).catch((error: unknown) => {
      throw error instanceof ForwardError ? forwardRefusal(error, command) : error;
    });
  }
  const { account } = command;
  switch (command.code) {
    case "AD":
      return ledgerCall(ctx.ledger.deposit(account, command.amount), () => "AD");
    case "AW":
      return ledgerCall(ctx.ledger.withdraw(account, command.amount), () => "AW");
    case "AB":
      return ledgerCall(ctx.ledger.balance(account), (balance) => `AB ${balance}`);
    case "AR":
      return ledgerCall(ctx.ledger.close(account), () => "AR");
  }
}

/**
 * The refusal for a forward without a reply. Only when nothing reached the other bank is it
 * "unreachable"; once the request was delivered, a change may have been made there: say so, and how to check.
 */
function forwardRefusal(error: ForwardError, command: Command & AccountRef): BankError {
  const ip = command.bank;
  if (!error.delivered) return new BankError("bank_unreachable", { ip });
  if (command.code === "AB") return new BankError("forward_no_answer", { ip });
  return new BankError("forward_outcome_unknown", { ip, account: String(command.account) });
}

/** Formats a ledger result, synchronously when it is already there. */
function ledgerCall<T>(result: MaybePromise<T>, format: (value: T) => string): MaybePromise<string> {
  return result instanceof Promise ? result.then(format) : format(result);
}

/** The protocol error for a refusal (BankError or LedgerError); undefined for a bug. */
export function asBankError(error: unknown): BankError | undefined {
  if (error instanceof BankError) return error;
  if (error instanceof LedgerError) {
    return new BankError(error.reason, error.account === undefined ? {} : { account: String(error.account) });
  }
  return undefined;
}
