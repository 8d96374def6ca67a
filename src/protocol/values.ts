/** Domain values of the wire protocol: account numbers, bank codes and amounts (always bigint). */

/** A 5-digit account number, 10000–99999. */
export type AccountNumber = number & { readonly __brand: "AccountNumber" };
/** A bank code: an IPv4 address in canonical dotted decimal. */
export type BankCode = string & { readonly __brand: "BankCode" };
/** Money, never a JS number. */
export type Amount = bigint;

/** The lowest account number. */
export const MIN_ACCOUNT = 10000;
/** The highest account number. */
export const MAX_ACCOUNT = 99999;
/** The largest balance and the largest amount a command may carry: 2^63 − 1. */
export const MAX_AMOUNT: Amount = 9223372036854775807n;

const DIGITS = /^[0-9]+$/;
const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Parses an account number: exactly five digits, 10000–99999. Any other run of digits (9999, 01234,
 * 123456) is "out of range", anything that is not digits "malformed": the same rule whatever the length.
 */
export function parseAccount(text: string): AccountNumber | "malformed" | "out_of_range" {
  if (!DIGITS.test(text)) return "malformed";
  if (text.length !== 5 || text[0] === "0") return "out_of_range";
  return Number(text) as AccountNumber;
}

/** The last bank code parsed: nearly every command names the same one (ours), so it is checked once. */
let lastBankCode = "";

/** Parses four decimal octets 0–255 without leading zeros. */
export function parseBankCode(text: string): BankCode | undefined {
  if (text === lastBankCode) return text as BankCode;
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  for (const p of parts) if (!OCTET.test(p) || Number(p) > 255) return undefined;
  lastBankCode = text;
  return text as BankCode;
}

/** Parses a protocol number: digits only, no leading zero except "0", at most 2^63 − 1. */
export function parseAmount(text: string): Amount | "malformed" | "out_of_range" {
  if (!DIGITS.test(text) || (text.length > 1 && text[0] === "0")) return "malformed";
  // 2^63−1 has 19 digits: anything longer is out of range without building a huge bigint.
  if (text.length > 19) return "out_of_range";
  const n = BigInt(text);
  return n > MAX_AMOUNT ? "out_of_range" : n;
}

/** Parses a number read from another bank: any run of digits, however large (peers overflow). */
export function parsePeerNumber(text: string): bigint | undefined {
  return DIGITS.test(text) && text.length <= 400 ? BigInt(text) : undefined;
}

/** Formats `12345/10.0.0.1`. */
export function formatAccount(account: AccountNumber, bank: BankCode): string {
  return `${account}/${bank}`;
}
