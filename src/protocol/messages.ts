/** The human-readable texts of replies, in English and Czech. */

/** A language for error and RP texts. */
export type Language = "en" | "cs";

/** Every reason a command can fail, each with its own message. */
export type ErrorKey =
  | "unknown_command"
  | "usage"
  | "malformed_account"
  | "account_out_of_range"
  | "malformed_ip"
  | "malformed_number"
  | "number_out_of_range"
  | "no_such_account"
  | "insufficient_funds"
  | "balance_overflow"
  | "account_not_empty"
  | "no_free_accounts"
  | "bank_unreachable"
  | "forward_outcome_unknown"
  | "forward_no_answer"
  | "idle_timeout"
  | "store_failed"
  | "line_too_long"
  | "invalid_utf8"
  | "too_many_connections"
  | "scan_failed"
  | "internal_error";

/** Values substituted into a message: `{code}`, `{usage}`, `{text}`, `{account}`, `{ip}`. */
export type MessageParams = Readonly<Record<string, string>>;

/** A failure of a command, answered as `ER <message>`. */
export class BankError extends Error {
  constructor(readonly key: ErrorKey, readonly params: MessageParams = {}) {
    super(`${key} ${JSON.stringify(params)}`);
    this.name = "BankError";
  }
}

const EN: Record<ErrorKey, string> = {
  unknown_command: "Unknown command '{code}'; commands are BC, AC, AD, AW, AB, AR, BA, BN, RP.",
  usage: "{code} expects: {usage}",
  malformed_account: "Malformed account '{text}'; expected <account>/<ip>, e.g. 10001/10.0.0.1.",
  account_out_of_range: "Account number {text} is out of range; accounts are 10000 to 99999.",
  malformed_ip: "Malformed bank code '{text}'; expected an IPv4 address such as 10.0.0.1.",
  malformed_number: "Malformed number '{text}'; expected digits only, without sign, decimal point or leading zeros.",
  number_out_of_range: "Number {text} is out of range; the maximum is 9223372036854775807.",
  no_such_account: "Account {account} does not exist.",
  insufficient_funds: "Insufficient funds: account {account} holds less than the amount.",
  balance_overflow: "Deposit refused: the balance of account {account} would exceed 9223372036854775807.",
  account_not_empty: "Account {account} still holds money; only an account with balance 0 can be closed.",
  no_free_accounts: "No free account numbers are left in this bank.",
  bank_unreachable: "The bank at {ip} cannot be reached; nothing was sent to it.",
  forward_outcome_unknown:
    "The bank at {ip} got the request but did not answer in time: the change may or may not have been made there. Check with AB {account}/{ip} before trying again.",
  forward_no_answer: "The bank at {ip} got the request but did not answer in time.",
  idle_timeout: "No command for {seconds} s; closing the connection.",
  store_failed: "The bank cannot write to its store; the change was not made, try again later.",
  line_too_long: "Line too long; a command is at most 8192 bytes.",
  invalid_utf8: "The line is not valid UTF-8.",
  too_many_connections: "Too many connections; try again later.",
  scan_failed: "The network scan failed: {text}",
  internal_error: "Internal error; the command was not carried out.",
};

const CS: Record<ErrorKey, string> = {
  unknown_command: "Neznámý příkaz '{code}'; příkazy jsou BC, AC, AD, AW, AB, AR, BA, BN, RP.",
  usage: "{code} očekává: {usage}",
  malformed_account: "Chybný účet '{text}'; očekává se <účet>/<ip>, např. 10001/10.0.0.1.",
  account_out_of_range: "Číslo účtu {text} je mimo rozsah; účty jsou 10000 až 99999.",
  malformed_ip: "Chybný kód banky '{text}'; očekává se IPv4 adresa, např. 10.0.0.1.",
  malformed_number: "Chybné číslo '{text}'; očekávají se jen číslice, bez znaménka, desetinné čárky a úvodních nul.",
  number_out_of_range: "Číslo {text} je mimo rozsah; nejvýše 9223372036854775807.",
  no_such_account: "Účet {account} neexistuje.",
  insufficient_funds: "Nedostatek prostředků: na účtu {account} je méně než požadovaná částka.",
  balance_overflow: "Vklad odmítnut: zůstatek účtu {account} by překročil 9223372036854775807.",
  account_not_empty: "Na účtu {account} jsou peníze; zrušit lze jen účet se zůstatkem 0.",
  no_free_accounts: "V této bance už nejsou volná čísla účtů.",
  bank_unreachable: "Banka {ip} není dostupná; nic jí nebylo odesláno.",
  forward_outcome_unknown:
    "Banka {ip} požadavek dostala, ale neodpověděla včas: změna tam možná proběhla, možná ne. Než to zkusíte znovu, ověřte to příkazem AB {account}/{ip}.",
  forward_no_answer: "Banka {ip} požadavek dostala, ale neodpověděla včas.",
  idle_timeout: "Žádný příkaz {seconds} s; spojení se ukončuje.",
  store_failed: "Banka nemůže zapisovat do úložiště; změna nebyla provedena, zkuste to později.",
  line_too_long: "Příliš dlouhý řádek; příkaz má nejvýše 8192 bajtů.",
  invalid_utf8: "Řádek není platné UTF-8.",
  too_many_connections: "Příliš mnoho spojení; zkuste to později.",
  scan_failed: "Prohledání sítě selhalo: {text}",
  internal_error: "Vnitřní chyba; příkaz nebyl proveden.",
};

const TEXTS: Record<Language, Record<ErrorKey, string>> = { en: EN, cs: CS };

function fill(template: string, params: MessageParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** Usage texts name their fields in the reader's language. */
const CS_FIELDS: Readonly<Record<string, string>> = { "<account>": "<účet>", "<number>": "<číslo>" };

/** The `ER …` reply line for an error, without the line end. */
export function errorLine(language: Language, error: BankError): string {
  let { params } = error;
  if (language === "cs" && params.usage !== undefined) {
    params = { ...params, usage: params.usage.replace(/<account>|<number>/g, (field) => CS_FIELDS[field]!) };
  }
  return `ER ${fill(TEXTS[language][error.key], params)}`;
}

/** Joins bank codes as a sentence: `a`, `a and b`, `a, b and c` (Czech: `a`, `a a b`). */
function listCodes(language: Language, codes: readonly string[]): string {
  const and = language === "cs" ? " a " : " and ";
  return codes.length <= 1 ? codes.join("") : `${codes.slice(0, -1).join(", ")}${and}${codes.at(-1)}`;
}

/** "1 client", "2 clients"; Czech has three forms: 1 klient, 2–4 klienti, 0 and 5+ klientů. */
function clientsPhrase(language: Language, clients: bigint): { count: string; cs: "one" | "few" | "many" } {
  if (language === "cs") {
    const form = clients === 1n ? "one" : clients >= 2n && clients <= 4n ? "few" : "many";
    return { count: `${clients} ${form === "one" ? "klient" : form === "few" ? "klienti" : "klientů"}`, cs: form };
  }
  return { count: `${clients} ${clients === 1n ? "client" : "clients"}`, cs: "many" };
}

/** The sentence saying how many found banks the plan could not count, or nothing when none. */
function leftOutSentence(language: Language, leftOut: number): string {
  if (leftOut === 0) return "";
  return language === "cs"
    ? ` Vynecháno bank: ${leftOut} (bez platné odpovědi na BC, BA nebo BN).`
    : ` ${leftOut} ${leftOut === 1 ? "bank" : "banks"} left out (no valid answer to BC, BA or BN).`;
}

/** The `RP …` reply for a reachable plan; `leftOut` counts hosts on bank ports that gave no valid BC, BA or BN. */
export function planLine(
  language: Language,
  plan: { target: bigint; codes: readonly string[]; amount: bigint; clients: bigint },
  leftOut = 0,
): string {
  const { target, amount, clients } = plan;
  const tail = leftOutSentence(language, leftOut);
  if (plan.codes.length === 0) {
    return language === "cs"
      ? `RP K dosažení ${target} není třeba vyloupit žádnou banku (získáte 0) a nebude poškozen žádný klient.${tail}`
      : `RP To reach ${target}, rob no bank: 0 taken, 0 clients hurt.${tail}`;
  }
  const codes = listCodes(language, plan.codes);
  const hurt = clientsPhrase(language, clients);
  if (language === "cs") {
    const verb = hurt.cs === "one" ? "bude poškozen" : hurt.cs === "few" ? "budou poškozeni" : "bude poškozeno";
    return `RP K dosažení ${target} je třeba vyloupit ${plan.codes.length === 1 ? "banku" : "banky"} ${codes} (získáte ${amount}) a ${verb} jen ${hurt.count}.${tail}`;
  }
  return `RP To reach ${target}, rob ${plan.codes.length === 1 ? "bank" : "banks"} ${codes}: ${amount} taken, ${hurt.count} hurt.${tail}`;
}

/** The `RP …` reply when the whole network holds less than the target. */
export function unreachableLine(language: Language, target: bigint, amount: bigint, clients: bigint, leftOut = 0): string {
  const hurt = clientsPhrase(language, clients);
  const tail = leftOutSentence(language, leftOut);
  return language === "cs"
    ? `RP Částku ${target} nelze získat: celá síť má jen ${amount} (${hurt.count}).${tail}`
    : `RP ${target} cannot be reached: the whole network holds only ${amount} (${hurt.count}).${tail}`;
}

/** Said under a plan whose search hit its time limit. */
export function notExactNote(language: Language): string {
  return language === "cs"
    ? "(hledání narazilo na časový limit: nejlepší nalezený plán, optimum není prokázáno)"
    : "(the search hit its time limit: the best plan found, not proven optimal)";
}
