/**
 * The checks of `bank check`: each one a rule of the protocol reference, what to send to test it and how
 * to judge what came back. Pure: no sockets here (src/check/run.ts does the talking). They run in this
 * order, which matters with `--write`: the test account goes 0 → 100 → 60 → 2^63−1 → 0 and is closed.
 */
import { MAX_AMOUNT, parseBankCode, parsePeerNumber } from "../protocol/values.ts";
import type { Check, Context, Exchange, ExchangeResult, Turn, Verdict } from "./types.ts";

const MAX = MAX_AMOUNT;

/** A command line as a client should send it. */
const crlf = (line: string): string => `${line}\r\n`;

/** One connection with one turn: `writes`, then `replies` lines awaited. */
function ask(writes: readonly (string | Uint8Array)[], replies = 1, to: Exchange["to"] = "bank"): Exchange {
  return { to, turns: [{ writes, replies }] };
}

/** One connection, one command in canonical form. */
export function command(line: string, to: Exchange["to"] = "bank"): Exchange {
  return ask([crlf(line)], 1, to);
}

/** Several turns on one connection. */
function turns(...list: Turn[]): Exchange {
  return { to: "bank", turns: list };
}

/** The reply texts of one exchange. */
function texts(result: ExchangeResult): string[] {
  return result.lines.map((l) => l.text);
}

function fields(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(/[ \t]+/);
}

/** Why an exchange did not give its awaited lines, in words. */
function shortfall(result: ExchangeResult, ctx: Context): string {
  const awaited = result.exchange.turns.reduce((n, t) => n + t.replies, 0);
  const got = result.lines.length;
  const what = got === 0 ? "no reply" : `${got} of ${awaited} replies`;
  switch (result.outcome) {
    case "refused":
      return "the connection was refused";
    case "closed":
      return `${what}, then the bank closed the connection`;
    case "timeout":
      return `${what} within ${((result.exchange.deadlineMs ?? ctx.timeoutMs) / 1000).toFixed(1)} s`;
    default:
      return got > awaited ? `${got} replies where ${awaited} were expected` : what;
  }
}

/** The replies of an exchange as expected: exactly as many as awaited, each accepted by its test. */
function replies(result: ExchangeResult, ctx: Context, ...tests: ((text: string) => string | undefined)[]): string | undefined {
  const got = texts(result);
  for (const [i, test] of tests.entries()) {
    if (got[i] === undefined) return shortfall(result, ctx);
    const problem = test(got[i]!);
    if (problem !== undefined) return tests.length > 1 ? `reply ${i + 1}: ${problem}` : problem;
  }
  if (got.length > tests.length) return `${got.length} replies where ${tests.length} ${tests.length === 1 ? "was" : "were"} expected`;
  return undefined;
}

/** A reply whose first field is `code` (upper case) followed by `count` fields. */
function coded(code: string, count = 0): (text: string) => string | undefined {
  return (text) => {
    const [first, ...rest] = fields(text);
    if (first === code && rest.length === count) return undefined;
    if (first?.toUpperCase() === code && first !== code) return `the reply code must be upper case ${code}`;
    if (first === code) return `${code} with ${rest.length} fields after it, expected ${count}`;
    return isError(text) ? "an ER where an answer was expected" : `not a ${code} reply`;
  };
}

/** `CODE <number>`: digits only, read as a bigint (any size); `value` when given must match. */
function numberReply(code: string, value?: bigint): (text: string) => string | undefined {
  return (text) => {
    const problem = coded(code, 1)(text);
    if (problem !== undefined) return problem;
    const n = parsePeerNumber(fields(text)[1]!);
    if (n === undefined) return `${fields(text)[1]} is not a protocol number (digits only: no sign, point or exponent)`;
    if (value !== undefined && n !== value) return `the number is ${n}, expected ${value}`;
    return undefined;
  };
}

function isError(text: string): boolean {
  return fields(text)[0] === "ER";
}

/** An `ER …` line. */
function error(text: string): string | undefined {
  if (isError(text)) return fields(text).length > 1 ? undefined : "ER without a message saying what was wrong";
  return /^[A-Z]{2}( |$)/.test(text) ? `accepted (${text}) where ER was expected` : "an error must be one line starting with ER";
}

/** A BC naming a valid bank code. */
function bankCode(text: string): string | undefined {
  const problem = coded("BC", 1)(text);
  if (problem !== undefined) return problem;
  return parseBankCode(fields(text)[1]!) === undefined ? `${fields(text)[1]} is not an IPv4 address` : undefined;
}

function verdict(problem: string | undefined, failure: "fail" | "warn" = "fail"): Verdict {
  return problem === undefined ? { status: "pass" } : { status: failure, note: problem };
}

/** The first problem across several exchanges, each with its own tests. */
function all(...problems: (string | undefined)[]): string | undefined {
  return problems.find((p) => p !== undefined);
}

const needsWrite = { skip: "needs --write" } as const;
const needsAccount = { skip: "needs --write and the account AC opened" } as const;
const needsForward = { skip: "needs --forward <ip>" } as const;

/** The amount the forwarding checks move through the other bank. */
const FORWARD_AMOUNT = 100n;

/** Every check, in the order they run. */
export const CHECKS: readonly Check[] = [
  {
    id: "crlf",
    group: "framing",
    title: "a command ending in CR LF is answered",
    rule: "Lines and terminals: LF, CR LF, CR NUL or a lone CR ends the line",
    why: "CR LF is what PuTTY and other banks send: a bank that does not answer it answers nobody.",
    expected: "BC <ip>",
    required: true,
    plan: () => [command("BC")],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BC", 1))),
  },
  {
    id: "reply-ending",
    group: "framing",
    title: "a reply ends with exactly CR LF",
    rule: "Connection: one reply line per command; every reply ends with CR LF (\\r\\n)",
    why: "Banks read to the first LF and strip CRs, so \\r\\r\\n or \\n\\r still work with most of them, but a strict " +
      "client sees an empty line or a stray CR at the start of the next reply.",
    expected: "BN <number>\\r\\n",
    required: false,
    plan: () => [command("BN")],
    judge: ([r], ctx) => {
      const problem = replies(r!, ctx, coded("BN", 1));
      if (problem !== undefined) return verdict(problem);
      const ending = r!.lines[0]!.ending;
      if (ending === "\r\n") return { status: "pass" };
      const shown = JSON.stringify(ending).slice(1, -1);
      return { status: "warn", note: ending === "" ? "the reply has no line end (only the close ended it)" : `the reply ends with ${shown}` };
    },
  },
  {
    id: "lf-only",
    group: "framing",
    title: "a command ending in LF alone is answered",
    rule: "Lines and terminals: LF, CR LF, CR NUL or a lone CR ends the line",
    why: "netcat and many banks' clients send LF alone; one well-known bank never answers them, and nobody can use it from netcat.",
    expected: "BC <ip>",
    required: true,
    plan: () => [ask(["BC\n"])],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BC", 1))),
  },
  {
    id: "cr-only",
    group: "framing",
    title: "a command ending in a lone CR is answered",
    rule: "Lines and terminals: LF, CR LF, CR NUL or a lone CR ends the line",
    why: "Some terminals send only CR at Enter; the person typing waits forever for an answer.",
    expected: "BC <ip>",
    required: false,
    plan: () => [ask(["BC\r"])],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BC", 1)), "warn"),
  },
  {
    id: "split-command",
    group: "framing",
    title: "a command split over two TCP packets is one command",
    rule: "Connection: one command may arrive in several packets",
    why: "TCP keeps no message boundaries: a command typed key by key or sent by a slow bank arrives in pieces. A bank " +
      "that takes each read for a command answers ER twice.",
    expected: "BN <number>, then BC <ip> (and nothing else)",
    required: true,
    // The first turn makes sure the bank is reading before the pieces go out, one read each.
    plan: () => [turns({ writes: ["BN\r\n"], replies: 1 }, { writes: ["B", "C\r\n"], replies: 1 })],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BN", 1), coded("BC", 1))),
  },
  {
    id: "split-line-end",
    group: "framing",
    title: "a CR at the end of a packet and the LF opening the next are one line end",
    rule: "Lines and terminals: after a CR, one LF that follows (even in the next packet) belongs to the same line end",
    why: "Otherwise the LF is an empty command of its own, and a bank that answers empty lines puts every later reply out of step.",
    expected: "BN <number>, BC <ip>, BN <number> (and nothing else)",
    required: false,
    plan: () => [turns({ writes: ["BN\r\n"], replies: 1 }, { writes: ["BC\r", "\nBN\r\n"], replies: 2 })],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BN", 1), coded("BC", 1), coded("BN", 1)), "warn"),
  },
  {
    id: "pipelined",
    group: "framing",
    title: "two commands in one packet get two replies, in order",
    rule: "Connection: several commands may be sent at once; one reply line per command, in the order the commands came",
    why: "A pasted block or a script sends several commands at once; taking the packet for one command mangles them into one ER.",
    expected: "BC <ip>, then BN <number>",
    required: true,
    plan: () => [ask(["BC\r\nBN\r\n"], 2)],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BC", 1), coded("BN", 1))),
  },
  {
    id: "blank-line",
    group: "framing",
    title: "empty lines get no reply",
    rule: "Lines and terminals: a line that is empty after trimming gets no reply",
    why: "Enter on an empty line must not produce an answer, or the client reads that answer as the reply to its next command.",
    expected: "only BC <ip> (for the BC after two empty lines)",
    required: false,
    plan: () => [ask(["\r\n \t\r\nBC\r\n"])],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BC", 1)), "warn"),
  },
  {
    id: "long-line",
    group: "framing",
    title: "a line over 8 KiB is answered ER once, and the next line normally",
    rule: "Lines and terminals: a line longer than 8192 bytes is answered ER once and dropped up to its line end",
    why: "A bank that reads in small fixed chunks answers one long line many times, and its client falls out of step; " +
      "one that keeps everything can be made to run out of memory.",
    expected: "ER <message>, then BC <ip>",
    required: false,
    plan: () => [ask([`${"X".repeat(9000)}\r\nBC\r\n`], 2)],
    judge: ([r], ctx) => verdict(replies(r!, ctx, error, coded("BC", 1)), "warn"),
  },
  {
    id: "bc",
    group: "commands",
    title: "BC names the bank itself",
    rule: "Commands: BC answers `BC <ip>`, this bank's code; Connection: the bank code is the address other banks reach it on",
    why: "Other banks find you by the address in your account numbers; a BC naming the caller (or anything but the " +
      "address you are reached on) sends their forwards and robbery plans astray.",
    expected: "BC <the address dialled>",
    required: true,
    plan: () => [command("BC")],
    judge: ([r], ctx) => {
      const problem = replies(r!, ctx, bankCode);
      if (problem !== undefined) return verdict(problem);
      const named = fields(r!.lines[0]!.text)[1];
      if (named === ctx.host) return { status: "pass" };
      if (named === ctx.localAddress) return { status: "fail", note: `BC names ${named}, the caller's address, not the bank's own (${ctx.host})` };
      return { status: "warn", note: `BC names ${named}, not the address dialled (${ctx.host}); peers key banks by the dialled address` };
    },
  },
  {
    id: "lower-case",
    group: "commands",
    title: "command codes are matched in any case",
    rule: "Commands: the command code is two letters, any case (`ab` = `AB`); the reply code is upper case",
    why: "People type `bc`; refusing it looks like a broken bank.",
    expected: "BC <ip> (to `bc`)",
    required: true,
    plan: () => [command("bc")],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BC", 1))),
  },
  {
    id: "whitespace",
    group: "commands",
    title: "spaces and tabs around a command are trimmed",
    rule: "Lines and terminals: any Unicode space separates fields; leading and trailing spaces are trimmed",
    why: "What a person types often starts with a space or ends with a tab; it is still the same command.",
    expected: "BN <number> (to `  BN \\t`)",
    required: false,
    plan: () => [ask(["  BN \t\r\n"])],
    judge: ([r], ctx) => verdict(replies(r!, ctx, coded("BN", 1)), "warn"),
  },
  {
    id: "ba",
    group: "commands",
    title: "BA is an exact integer",
    rule: "Commands: BA answers `BA <number>`, the sum of all balances; Values: digits only, printed exactly",
    why: "Every robbery plan adds up the banks' BA; a float, a sign or a word breaks the plans of the whole class.",
    expected: "BA <number>",
    required: true,
    plan: () => [command("BA")],
    judge: ([r], ctx) => {
      const problem = replies(r!, ctx, numberReply("BA"));
      return problem === undefined ? { status: "pass", learned: { total: parsePeerNumber(fields(r!.lines[0]!.text)[1]!)! } } : verdict(problem);
    },
  },
  {
    id: "bn",
    group: "commands",
    title: "BN is an exact integer",
    rule: "Commands: BN answers `BN <number>`, the number of accounts",
    why: "Robbery plans minimise the clients hurt, which is BN: it must be a plain integer.",
    expected: "BN <number>",
    required: true,
    plan: () => [command("BN")],
    judge: ([r], ctx) => verdict(replies(r!, ctx, numberReply("BN"))),
  },
  {
    id: "unknown-command",
    group: "errors",
    title: "an unknown command gets ER, and the connection stays usable",
    rule: "Errors: every refusal is one line `ER <sentence>`; the connection stays open and usable",
    why: "Clients and other banks tell an answer from a failure by its first word: an error that does not start with ER " +
      "is taken for an answer (or relayed as one), and a bank that hangs up on a typo loses its client.",
    expected: "ER <message>, then BC <ip> on the same connection",
    required: true,
    plan: () => [turns({ writes: ["XX\r\n"], replies: 1 }, { writes: ["BC\r\n"], replies: 1 })],
    judge: ([r], ctx) => verdict(replies(r!, ctx, error, coded("BC", 1))),
  },
  {
    id: "missing-field",
    group: "errors",
    title: "a command with a missing field gets ER",
    rule: "Commands: a command with fields missing or extra is an error; Errors: `{code} expects: {usage}`",
    why: "`AB` alone cannot be answered; the student at the terminal needs to be told what the command expects.",
    expected: "ER <message>",
    required: true,
    plan: () => [command("AB")],
    judge: ([r], ctx) => verdict(replies(r!, ctx, error)),
  },
  {
    id: "extra-field",
    group: "errors",
    title: "a command with an extra field gets ER",
    rule: "Commands: a command with fields missing or extra is an error",
    why: "Quietly ignoring extra fields hides typos such as `AD 10001/10.0.0.1 100 0`.",
    expected: "ER <message> (to `BC 1`)",
    required: false,
    plan: () => [command("BC 1")],
    judge: ([r], ctx) => verdict(replies(r!, ctx, error), "warn"),
  },
  {
    id: "malformed-account",
    group: "errors",
    title: "a malformed account gets ER",
    rule: "Values: <account> is exactly 5 digits, 10000–99999; anything that is not digits is malformed",
    why: "A bank that crashes or answers nonsense on a typo in an account is down for everyone.",
    expected: "ER <message> (to `AB abc/<ip>`)",
    required: true,
    plan: (ctx) => [command(`AB abc/${ctx.code}`)],
    judge: ([r], ctx) => verdict(replies(r!, ctx, error)),
  },
  {
    id: "account-range",
    group: "values and limits",
    title: "accounts outside 10000–99999 get ER",
    rule: "Values: <account> is exactly 5 digits, 10000–99999; any other run of digits is out of range",
    why: "Account numbers have exactly five digits; 9999 and 100000 are not accounts, whatever a database would accept.",
    expected: "ER <message> (to `AB 9999/<ip>`), ER <message> (to `AB 100000/<ip>`)",
    required: true,
    plan: (ctx) => [command(`AB 9999/${ctx.code}`), command(`AB 100000/${ctx.code}`)],
    judge: ([low, high], ctx) => verdict(all(replies(low!, ctx, error), replies(high!, ctx, error))),
  },
  {
    id: "no-such-account",
    group: "errors",
    title: "AB of an account that does not exist gets ER",
    rule: "Errors: no such account is `ER Account {account} does not exist.`",
    why: "`AB 0` for a missing account makes money look lost; other banks relay your answer to their clients as it came.",
    expected: "ER <message> (to `AB 99999/<ip>`)",
    required: true,
    plan: (ctx) => [command(`AB 99999/${ctx.code}`)],
    judge: ([r], ctx) => {
      if (numberReply("AB")(r!.lines[0]?.text ?? "") === undefined && r!.lines.length === 1) {
        return { status: "warn", note: "account 99999 exists at this bank, so this could not be checked" };
      }
      return verdict(replies(r!, ctx, error));
    },
  },
  {
    id: "invalid-utf8",
    group: "errors",
    title: "bytes that are not UTF-8 get ER, and the connection stays usable",
    rule: "Lines and terminals: a line that is not valid UTF-8 is answered ER",
    why: "A bank that decodes without care dies on the first wrong byte (a Python UnicodeDecodeError), and its client with it.",
    expected: "ER <message>, then BC <ip> on the same connection",
    required: true,
    plan: () => [
      turns({ writes: [new Uint8Array([0x41, 0x42, 0x20, 0xc3, 0x28, 0x0d, 0x0a])], replies: 1 }, { writes: ["BC\r\n"], replies: 1 }),
    ],
    judge: ([r], ctx) => verdict(replies(r!, ctx, error, coded("BC", 1))),
  },
  {
    id: "ac",
    group: "commands",
    title: "AC opens an account of this bank",
    rule: "Commands: AC answers `AC <account>/<ip>`, a new account with balance 0",
    why: "The account number is how every client and bank reaches the money; it must name this bank.",
    expected: "AC <account>/<ip>",
    required: true,
    plan: (ctx) => (ctx.write ? [command("AC")] : needsWrite),
    judge: ([r], ctx) => {
      const problem = replies(r!, ctx, coded("AC", 1));
      if (problem !== undefined) return verdict(problem);
      const account = fields(r!.lines[0]!.text)[1]!;
      const match = /^([1-9][0-9]{4})\/(.+)$/.exec(account);
      if (match === null) return { status: "fail", note: `${account} is not <account>/<ip>` };
      // The account is used as given, so the write checks still run and are cleaned up.
      const learned = { account };
      return match[2] === ctx.code
        ? { status: "pass", learned }
        : { status: "fail", note: `the account names ${match[2]}, but the bank's code is ${ctx.code}`, learned };
    },
  },
  ...accountChecks(),
  {
    id: "forward-ad",
    group: "forwarding",
    title: "AD to another bank's account is forwarded once",
    rule: "Forwarding to other banks: AD, AW, AB (and AR) of another bank's account are forwarded to it",
    why: "A deposit through your bank must land exactly once at the owning bank.",
    expected: `AD, then the other bank's AB says ${FORWARD_AMOUNT}`,
    required: true,
    plan: (ctx) => forwardPlan(ctx, "AD"),
    judge: ([sent, check], ctx) =>
      verdict(all(replies(sent!, ctx, coded("AD")), replies(check!, ctx, numberReply("AB", FORWARD_AMOUNT)))),
  },
  {
    id: "forward-ab",
    group: "forwarding",
    title: "AB of another bank's account is forwarded and its reply relayed",
    rule: "Forwarding to other banks: the first non-blank reply line is passed on as it came",
    why: "A client of any bank can ask about any account; the answer must be the other bank's own.",
    expected: "the other bank's own reply to the same AB",
    required: true,
    plan: (ctx) => {
      if (ctx.other === undefined) return needsForward;
      // With --write, after forward-ad: the test account then holds 100, which the bank's own account of that number hardly does.
      const line = `AB ${ctx.otherAccount ?? "10000"}/${ctx.other.code}`;
      return [command(line, "other"), command(line)];
    },
    judge: ([direct, relayed], ctx) => {
      const problem = all(replies(direct!, ctx, () => undefined), replies(relayed!, ctx, () => undefined));
      if (problem !== undefined) return verdict(problem);
      const [own, got] = [direct!.lines[0]!.text, relayed!.lines[0]!.text];
      return verdict(own === got ? undefined : `relayed ${JSON.stringify(got)}, the other bank itself answers ${JSON.stringify(own)}`);
    },
  },
  {
    id: "forward-aw",
    group: "forwarding",
    title: "AW from another bank's account is forwarded once",
    rule: "Forwarding to other banks: AD, AW, AB (and AR) of another bank's account are forwarded to it",
    why: "A withdrawal through your bank must happen exactly once at the owning bank.",
    expected: "AW, then the other bank's AB says 0",
    required: true,
    plan: (ctx) => forwardPlan(ctx, "AW"),
    judge: ([sent, check], ctx) => verdict(all(replies(sent!, ctx, coded("AW")), replies(check!, ctx, numberReply("AB", 0n)))),
  },
  {
    id: "bc-speed",
    group: "timeouts",
    title: "BC is answered quickly",
    rule: "Timeouts: `timeout` bounds the BC answer of a host that accepted the connection",
    why: "This node's scans wait `timeout` for a slow BC, but many classmates' scans give up much sooner and leave a slow bank out of their plans.",
    expected: "BC <ip> within scan_time_out",
    required: true,
    plan: () => [command("BC")],
    judge: ([r], ctx) => {
      const problem = replies(r!, ctx, coded("BC", 1));
      if (problem !== undefined) return verdict(problem);
      return r!.ms <= ctx.scanTimeoutMs
        ? { status: "pass" }
        : { status: "warn", note: `answered after ${Math.round(r!.ms)} ms; scans that wait ${ctx.scanTimeoutMs} ms may miss this bank` };
    },
  },
  {
    id: "forward-silent",
    group: "timeouts",
    title: "a forward to a bank that never answers ends in ER in time",
    rule: "Timeouts: `timeout` bounds a whole forward (probe, connect and reply); the client then gets ER",
    why: "Classmates' banks accept connections and never answer; without its own deadline a bank hangs its client (and " +
      "its robbery plans) forever.",
    expected: "ER <message> within the timeout",
    required: true,
    plan: (ctx) => {
      if (ctx.silent === undefined) return { skip: "no address of this machine could host the silent bank" };
      // The bank's own `timeout` may be as long as ours, spent on finding the port and again on the reply.
      return [{ ...command(`AB 10000/${ctx.silent}`), deadlineMs: 2 * ctx.timeoutMs + 1000 }];
    },
    judge: ([r], ctx) => {
      const problem = replies(r!, ctx, error);
      if (problem !== undefined) return verdict(problem);
      return r!.silentConnections > 0
        ? { status: "pass" }
        : { status: "warn", note: `the bank answered without dialling ${ctx.silent}, so its timeout was not tested` };
    },
  },
];

/**
 * The checks on the test account, in the order they move its balance. Each ends with an AB and
 * learns the balance from it, and the next expects from that balance: one bug fails one check, not
 * every check after it.
 */
function accountChecks(): Check[] {
  type Plan = readonly Exchange[] | { skip: string };
  /** The exchanges on the test account (`<a>` stands for it), when it is open and its balance known. */
  const onAccount = (ctx: Context, lines: (balance: bigint) => string[] | { skip: string }): Plan => {
    if (ctx.account === undefined) return needsAccount;
    if (ctx.balance === undefined) return { skip: "the test account's balance is unknown after an earlier failure" };
    const list = lines(ctx.balance);
    return "skip" in list ? list : list.map((l) => command(l.replaceAll("<a>", ctx.account!)));
  };
  /** Judges `tests` on all exchanges but the last, which is an AB that must say `balance`; learns the balance. */
  const thenBalance = (
    results: readonly ExchangeResult[],
    ctx: Context,
    tests: ((text: string) => string | undefined)[],
    balance: bigint,
  ): Verdict => {
    const last = results.at(-1)!;
    const problem = all(...tests.map((test, i) => replies(results[i]!, ctx, test)), replies(last, ctx, numberReply("AB", balance)));
    const field = fields(last.lines[0]?.text)[1];
    const learned = { balance: numberReply("AB")(last.lines[0]?.text ?? "") === undefined ? parsePeerNumber(field!) : undefined };
    return { ...verdict(problem), learned };
  };
  const before = (ctx: Context) => ctx.balance ?? 0n;
  return [
    {
      id: "ab-new",
      group: "commands",
      title: "a new account holds 0",
      rule: "Commands: AC opens a new account with balance 0; AB answers `AB <number>`",
      why: "Money must not appear from nowhere in a new account.",
      expected: "AB 0",
      required: true,
      plan: (ctx) => (ctx.account === undefined ? needsAccount : [command(`AB ${ctx.account}`)]),
      judge: (rs, ctx) => thenBalance(rs, ctx, [], 0n),
    },
    {
      id: "ad",
      group: "commands",
      title: "AD deposits",
      rule: "Commands: AD <account>/<ip> <number> answers `AD`",
      why: "A deposit that is acknowledged must be in the balance.",
      expected: "AD, then AB 100 more than before",
      required: true,
      plan: (ctx) => onAccount(ctx, () => ["AD <a> 100", "AB <a>"]),
      judge: (rs, ctx) => thenBalance(rs, ctx, [coded("AD")], before(ctx) + 100n),
    },
    {
      id: "aw",
      group: "commands",
      title: "AW withdraws",
      rule: "Commands: AW <account>/<ip> <number> answers `AW`",
      why: "A withdrawal that is acknowledged must be gone from the balance.",
      expected: "AW, then AB 40 less than before",
      required: true,
      plan: (ctx) => onAccount(ctx, (b) => (b >= 40n ? ["AW <a> 40", "AB <a>"] : { skip: "the account holds less than 40" })),
      judge: (rs, ctx) => thenBalance(rs, ctx, [coded("AW")], before(ctx) - 40n),
    },
    {
      id: "aw-insufficient",
      group: "errors",
      title: "AW of more than the balance gets ER and changes nothing",
      rule: "Commands: AW fails if the balance is lower; Values: a balance never goes below 0",
      why: "A balance below zero is money created from nothing.",
      expected: "ER <message> to AW of the balance + 1, then AB unchanged",
      required: true,
      plan: (ctx) => onAccount(ctx, (b) => [`AW <a> ${b + 1n}`, "AB <a>"]),
      judge: (rs, ctx) => thenBalance(rs, ctx, [error], before(ctx)),
    },
    {
      id: "ar-not-empty",
      group: "errors",
      title: "AR of an account holding money gets ER",
      rule: "Commands: AR closes an account whose balance is 0",
      why: "Closing an account with money in it makes the money vanish.",
      expected: "ER <message>, then AB unchanged",
      required: true,
      plan: (ctx) => onAccount(ctx, (b) => (b > 0n ? ["AR <a>", "AB <a>"] : { skip: "the test account is empty" })),
      judge: (rs, ctx) => thenBalance(rs, ctx, [error], before(ctx)),
    },
    {
      id: "max-balance",
      group: "values and limits",
      title: "a balance of 2^63−1 is kept exactly",
      rule: "Values: a balance never goes above 9223372036854775807; <number> is 0–9223372036854775807",
      why: "Money stored in a double is rounded past 2^53: 9223372036854775807 comes back as 9223372036854775808 or 9.2e18.",
      expected: `AD of what is missing to the maximum, then AB ${MAX}`,
      required: true,
      plan: (ctx) => onAccount(ctx, (b) => (b <= MAX ? [`AD <a> ${MAX - b}`, "AB <a>"] : { skip: "the account is already past the maximum" })),
      judge: (rs, ctx) => thenBalance(rs, ctx, [coded("AD")], MAX),
    },
    {
      id: "ba-large",
      group: "values and limits",
      title: "BA is exact when one balance is 2^63−1",
      rule: "Values: totals (BA) may exceed 2^63−1 and are printed exactly",
      why: "With one full account the total reaches what a 64-bit integer holds, and passes it with any other money in the " +
        "bank: summing in SQL (SUM overflows) or in a double gives an error or a rounded number, and every robbery plan that reads it is wrong.",
      expected: "BA <the BA before> + <the test account's balance>",
      required: true,
      plan: (ctx) => (ctx.account === undefined || ctx.balance === undefined ? needsAccount : [command("BA")]),
      judge: ([r], ctx) => {
        const problem = replies(r!, ctx, numberReply("BA"));
        if (problem !== undefined || ctx.total === undefined) return verdict(problem);
        const total = parsePeerNumber(fields(r!.lines[0]!.text)[1]!)!;
        // A double rounds 2^63−1 to 9223372036854775808 (printed 9223372036854776000): only the exact sum passes.
        const expected = ctx.total + ctx.balance!;
        return verdict(
          total === expected ? undefined : `BA ${total}, expected exactly ${expected} (BA was ${ctx.total} before the test account got ${ctx.balance})`,
        );
      },
    },
    {
      id: "deposit-overflow",
      group: "values and limits",
      title: "a deposit past 2^63−1 gets ER and changes nothing",
      rule: "Values: a balance never goes above 9223372036854775807",
      why: "A 64-bit balance that overflows wraps to a negative number; a double silently stops counting.",
      expected: `ER <message> to AD of 1 at ${MAX}, then AB ${MAX}`,
      required: true,
      plan: (ctx) => onAccount(ctx, (b) => (b === MAX ? ["AD <a> 1", "AB <a>"] : { skip: "the account does not hold the maximum" })),
      judge: (rs, ctx) => thenBalance(rs, ctx, [error], MAX),
    },
    {
      id: "withdraw-max",
      group: "values and limits",
      title: "AW of 2^63−1 is a valid withdrawal",
      rule: "Values: <number> is 0–9223372036854775807",
      why: "The largest amount is a valid amount in both directions.",
      expected: `AW, then AB ${MAX} less than before`,
      required: true,
      plan: (ctx) => onAccount(ctx, (b) => (b >= MAX ? [`AW <a> ${MAX}`, "AB <a>"] : { skip: "the account holds less than the maximum" })),
      judge: (rs, ctx) => thenBalance(rs, ctx, [coded("AW")], before(ctx) - MAX),
    },
    {
      id: "number-range",
      group: "values and limits",
      title: "an amount of 2^63 gets ER",
      rule: "Values: <number> is 0–9223372036854775807 (2^63−1)",
      why: "An amount one past the maximum must be refused, not wrapped, rounded or cut.",
      expected: "ER <message>, then AB unchanged",
      required: true,
      plan: (ctx) => onAccount(ctx, () => [`AD <a> ${MAX + 1n}`, "AB <a>"]),
      judge: (rs, ctx) => thenBalance(rs, ctx, [error], before(ctx)),
    },
    {
      id: "number-form",
      group: "values and limits",
      title: "signs, decimal points and exponents in amounts get ER",
      rule: "Values: digits only: no sign, no decimal point, no exponent, no thousands separators",
      why: "`AD … -5` must not withdraw and `1.5` must not be rounded: money is whole numbers.",
      expected: "ER to `-5`, `1.5`, `1e3` and `+5`, then AB unchanged",
      required: true,
      plan: (ctx) => onAccount(ctx, () => ["AD <a> -5", "AD <a> 1.5", "AD <a> 1e3", "AD <a> +5", "AB <a>"]),
      judge: (rs, ctx) => thenBalance(rs, ctx, [error, error, error, error], before(ctx)),
    },
    {
      id: "ar",
      group: "commands",
      title: "AR closes an empty account",
      rule: "Commands: AR closes an account whose balance is 0",
      why: "A closed account must be gone: AB on it is an error.",
      expected: "AR, then ER <message> to AB",
      required: true,
      // Whatever an earlier failure left in the account is taken out first: AR is about an empty account.
      plan: (ctx) => onAccount(ctx, (b) => [...(b > 0n ? [`AW <a> ${b}`] : []), "AR <a>", "AB <a>"]),
      judge: (rs, ctx) => {
        const [close, gone] = rs.slice(-2);
        const problem = all(...rs.slice(0, -2).map((r) => replies(r, ctx, coded("AW"))), replies(close!, ctx, coded("AR")), replies(gone!, ctx, error));
        // Once AR is acknowledged the account is gone, whatever AB says after: nothing is left to clean up.
        return { ...verdict(problem), learned: replies(close!, ctx, coded("AR")) === undefined ? { account: undefined } : {} };
      },
    },
  ];
}

function forwardPlan(ctx: Context, code: "AD" | "AW"): readonly Exchange[] | { skip: string } {
  if (ctx.other === undefined) return needsForward;
  if (ctx.otherAccount === undefined) return { skip: "needs --write (an account opened at the other bank)" };
  const account = `${ctx.otherAccount}/${ctx.other.code}`;
  return [command(`${code} ${account} ${FORWARD_AMOUNT}`), command(`AB ${account}`, "other")];
}

/** Withdraws what the test account holds, then closes it: the clean-up after `--write`, whatever failed. */
export function cleanupLines(account: string, balance: bigint | undefined): string[] {
  return [...(balance !== undefined && balance > 0n ? [`AW ${account} ${balance}`] : []), `AR ${account}`];
}
