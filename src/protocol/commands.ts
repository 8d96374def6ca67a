/** Parses one line into a typed command; one declarative table of codes and their fields. */
import { BankError } from "./messages.ts";
import {
  type AccountNumber,
  type Amount,
  type BankCode,
  formatAccount,
  parseAccount,
  parseAmount,
  parseBankCode,
} from "./values.ts";

/** An account as the protocol names it: number and owning bank. */
export interface AccountRef {
  readonly account: AccountNumber;
  readonly bank: BankCode;
}

/** A parsed command. */
export type Command =
  | { readonly code: "BC" | "AC" | "BA" | "BN" }
  | ({ readonly code: "AD" | "AW"; readonly amount: Amount } & AccountRef)
  | ({ readonly code: "AB" | "AR" } & AccountRef)
  | { readonly code: "RP"; readonly amount: Amount };

/** The command codes. */
export type CommandCode = Command["code"];

type Field = "account" | "number";

/** Fields of each command, and its usage line for errors. */
const TABLE: Readonly<Record<CommandCode, readonly Field[]>> = {
  BC: [],
  AC: [],
  AD: ["account", "number"],
  AW: ["account", "number"],
  AB: ["account"],
  AR: ["account"],
  BA: [],
  BN: [],
  RP: ["number"],
};

const PLACEHOLDER: Record<Field, string> = { account: "<account>/<ip>", number: "<number>" };

/** The expected form of a command, e.g. `AD <account>/<ip> <number>`. */
export function usage(code: CommandCode): string {
  return [code, ...TABLE[code].map((f) => PLACEHOLDER[f])].join(" ");
}

function isCode(code: string): code is CommandCode {
  return Object.hasOwn(TABLE, code);
}

function accountField(text: string): AccountRef {
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) throw new BankError("malformed_account", { text: clip(text) });
  const accountText = text.slice(0, slash);
  const account = parseAccount(accountText);
  if (account === "malformed") throw new BankError("malformed_account", { text: clip(text) });
  if (account === "out_of_range") throw new BankError("account_out_of_range", { text: clip(accountText) });
  const ipText = text.slice(slash + 1);
  const bank = parseBankCode(ipText);
  if (bank === undefined) throw new BankError("malformed_ip", { text: clip(ipText) });
  return { account, bank };
}

function numberField(text: string): Amount {
  const amount = parseAmount(text);
  if (amount === "malformed") throw new BankError("malformed_number", { text: clip(text) });
  if (amount === "out_of_range") throw new BankError("number_out_of_range", { text: clip(text) });
  return amount;
}

/** Echoed user text is clipped and freed of control bytes, so an error line stays one short line. */
function clip(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return short.replace(/[\x00-\x1f\x7f]/g, "?");
}

/** Any run of Unicode white space (a no-break space included) separates fields, as it looks like one. */
const SEPARATORS = /\s+/;

/**
 * Parses a line (without its line end). Returns undefined for a blank line, which gets no reply;
 * throws BankError for anything malformed.
 */
export function parseCommand(line: string): Command | undefined {
  const trimmed = line.trim();
  if (trimmed === "") return undefined;
  const fields = trimmed.split(SEPARATORS);
  const code = fields[0]!.toUpperCase();
  if (!isCode(code)) throw new BankError("unknown_command", { code: clip(fields[0]!) });
  const spec = TABLE[code];
  if (fields.length !== spec.length + 1) throw new BankError("usage", { code, usage: usage(code) });
  switch (code) {
    case "AD":
    case "AW":
      return { code, ...accountField(fields[1]!), amount: numberField(fields[2]!) };
    case "AB":
    case "AR":
      return { code, ...accountField(fields[1]!) };
    case "RP":
      return { code, amount: numberField(fields[1]!) };
    default:
      return { code };
  }
}

/** The canonical wire form of a command: upper-case code, single spaces, no line end. */
export function formatCommand(command: Command): string {
  switch (command.code) {
    case "AD":
    case "AW":
      return `${command.code} ${formatAccount(command.account, command.bank)} ${command.amount}`;
    case "AB":
    case "AR":
      return `${command.code} ${formatAccount(command.account, command.bank)}`;
    case "RP":
      return `RP ${command.amount}`;
    default:
      return command.code;
  }
}
