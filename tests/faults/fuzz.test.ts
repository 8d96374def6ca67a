/**
 * Fuzz: 10,000 grammar-made lines, half mutated (case, separators, digits, lengths, Unicode, control and bad UTF-8
 * bytes, huge numbers, 8 KiB edges), pipelined. Proves one reply per line (blank: none), each ER or the right
 * success per an independent reading of PROTOCOL.md, the node never dies, the ledger equals the model. FAULT_SEED=<n> replays.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import process from "node:process";
import { alive, bankPid, type BankClient, type BankProcess, cleanUp, MAX, pipeline, Rng, startBank } from "./fault_helpers.ts";

const HOST = "127.0.12.4";
const CONFIG = { host: HOST, port: 65529, timeout: 0.5, snapshot_interval: 2 };
const LINES = 10_000;
const BATCH = 100;
const SEED = Number(process.env.FAULT_SEED ?? 0x66757a7a);
/** Forwards go here only: 127.0.13.200–254, where nothing listens, so they fail fast and touch nothing. */
const FORWARD_BASE = 200;
const MAX_LINE_BYTES = 8192;

after(cleanUp);

// ---------------------------------------------------------------------------------------------------
// An independent reading of PROTOCOL.md: what a line means, or that it must be refused.

type Cmd =
  | { code: "BC" | "AC" | "BA" | "BN" }
  | { code: "AD" | "AW"; account: number; bank: string; amount: bigint }
  | { code: "AB" | "AR"; account: number; bank: string }
  | { code: "RP"; amount: bigint };

const ARITY: Record<string, number> = { BC: 0, AC: 0, BA: 0, BN: 0, AD: 2, AW: 2, AB: 1, AR: 1, RP: 1 };

function parseAccountRef(text: string): { account: number; bank: string } | undefined {
  const parts = text.split("/");
  if (parts.length !== 2 || !/^[0-9]{5}$/.test(parts[0]!) || Number(parts[0]) < 10000) return undefined;
  const octets = parts[1]!.split(".");
  if (octets.length !== 4 || !octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255)) return undefined;
  return { account: Number(parts[0]), bank: parts[1]! };
}

function parseNumber(text: string): bigint | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) return undefined;
  const n = BigInt(text);
  return n <= MAX ? n : undefined;
}

/** A trimmed line to a command, split at `separators`, or undefined when the protocol says it is malformed. */
function parseStrict(trimmed: string, separators: RegExp): Cmd | undefined {
  const fields = trimmed.split(separators);
  if (!/^[A-Za-z]{2}$/.test(fields[0]!)) return undefined;
  const code = fields[0]!.toUpperCase();
  if (!(code in ARITY) || fields.length !== ARITY[code]! + 1) return undefined;
  switch (code) {
    case "AD":
    case "AW": {
      const ref = parseAccountRef(fields[1]!);
      const amount = parseNumber(fields[2]!);
      return ref && amount !== undefined ? { code, ...ref, amount } : undefined;
    }
    case "AB":
    case "AR": {
      const ref = parseAccountRef(fields[1]!);
      return ref ? { code, ...ref } : undefined;
    }
    case "RP": {
      const amount = parseNumber(fields[1]!);
      return amount === undefined ? undefined : { code, amount };
    }
    default:
      return { code: code as "BC" | "AC" | "BA" | "BN" };
  }
}

/**
 * What a line must get: no reply (blank), an ER, or the command's own reply. "Any Unicode space" leaves
 * the edges open (tab and Zs surely; BOM, U+2028…?): where the reading with JavaScript's white space and
 * the one with tab and Zs differ, either outcome is accepted.
 */
type Expectation = { kind: "none" } | { kind: "error" } | { kind: "cmd"; cmd: Cmd; erAllowed: boolean } | { kind: "regenerate" };

const fatal = new TextDecoder("utf-8", { fatal: true });

/**
 * The line a person's terminal shows for these bytes (PROTOCOL.md, "People at terminals"): Backspace and
 * DEL erase the UTF-8 character before them, other control bytes are dropped. "too_long" once it grew past
 * 8 KiB; undefined for bytes this model leaves to the framing tests (escape sequences, telnet's IAC).
 */
function terminalLine(bytes: Uint8Array): Uint8Array | "too_long" | undefined {
  const shown: number[] = [];
  for (const byte of bytes) {
    if (byte === 0x1b || byte === 0xff) return undefined;
    if (byte === 0x08 || byte === 0x7f) {
      // Back over continuation bytes (10xxxxxx) to the lead byte of the character, at most four bytes.
      let start = shown.length - 1;
      while (start > 0 && shown.length - start < 4 && (shown[start]! & 0xc0) === 0x80) start--;
      shown.length = Math.max(0, start);
    } else if (byte >= 0x20 || byte === 0x09) {
      shown.push(byte);
      if (shown.length > MAX_LINE_BYTES) return "too_long";
    }
  }
  return Uint8Array.from(shown);
}

function expectationOf(raw: Uint8Array): Expectation {
  const bytes = terminalLine(raw);
  if (bytes === undefined) return { kind: "regenerate" };
  if (bytes === "too_long") return { kind: "error" };
  let text: string;
  try {
    text = fatal.decode(bytes);
  } catch {
    return { kind: "error" };
  }
  // "Any Unicode space separates fields": tab and the space separators (Zs) surely; JavaScript's wider
  // white space (BOM, line and paragraph separators) either way.
  const wide = text.trim();
  const narrow = text.replace(/^[\t\p{Zs}]+|[\t\p{Zs}]+$/gu, "");
  // A line blank under one reading only would make the number of replies unpredictable.
  if ((wide === "") !== (narrow === "")) return { kind: "regenerate" };
  if (wide === "") return { kind: "none" };
  const a = parseStrict(wide, /\s+/);
  const b = parseStrict(narrow, /[\t\p{Zs}]+/u);
  if (!a && !b) return { kind: "error" };
  if (a && b && JSON.stringify(a, big) !== JSON.stringify(b, big)) return { kind: "regenerate" };
  const cmd = (a ?? b)!;
  // RP scans the subnet; forwards only to the dead range.
  if (cmd.code === "RP") return { kind: "regenerate" };
  if ("bank" in cmd && cmd.bank !== HOST) {
    const m = /^127\.0\.13\.([0-9]+)$/.exec(cmd.bank);
    if (!m || Number(m[1]) < FORWARD_BASE) return { kind: "regenerate" };
  }
  return { kind: "cmd", cmd, erAllowed: !(a && b) };
}

const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

// ---------------------------------------------------------------------------------------------------
// The model: what our bank must hold.

type Model = Map<number, bigint>;

/** The success reply the model predicts (a RegExp for AC), or undefined when the command must fail. */
function predict(cmd: Cmd, model: Model): string | RegExp | undefined {
  if ("bank" in cmd && cmd.bank !== HOST) return undefined;
  switch (cmd.code) {
    case "BC":
      return `BC ${HOST}`;
    case "AC":
      return model.size < 90000 ? new RegExp(`^AC ([0-9]{5})/${HOST.replaceAll(".", "\\.")}$`) : undefined;
    case "BA":
      return `BA ${[...model.values()].reduce((s, b) => s + b, 0n)}`;
    case "BN":
      return `BN ${model.size}`;
    case "AB":
      return model.has(cmd.account) ? `AB ${model.get(cmd.account)}` : undefined;
    case "AD":
      return model.has(cmd.account) && model.get(cmd.account)! + cmd.amount <= MAX ? "AD" : undefined;
    case "AW":
      return model.has(cmd.account) && model.get(cmd.account)! >= cmd.amount ? "AW" : undefined;
    case "AR":
      return model.get(cmd.account) === 0n ? "AR" : undefined;
    default:
      return undefined;
  }
}

/** Applies a command that succeeded (AC: the account number it got). */
function apply(cmd: Cmd, model: Model, reply: string): void {
  switch (cmd.code) {
    case "AC":
      model.set(Number(reply.slice(3, 8)), 0n);
      break;
    case "AD":
      model.set(cmd.account, model.get(cmd.account)! + cmd.amount);
      break;
    case "AW":
      model.set(cmd.account, model.get(cmd.account)! - cmd.amount);
      break;
    case "AR":
      model.delete(cmd.account);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------------
// The generator: valid commands from a grammar, then mutations.

const WEIGHTS: [string, number][] = [["AC", 8], ["AD", 26], ["AW", 20], ["AB", 18], ["AR", 6], ["BA", 7], ["BN", 7], ["BC", 8]];

function pickCode(rng: Rng): string {
  let r = rng.next() * WEIGHTS.reduce((s, [, w]) => s + w, 0);
  for (const [code, w] of WEIGHTS) if ((r -= w) < 0) return code;
  return "BC";
}

function validLine(rng: Rng, model: Model): string {
  const code = pickCode(rng);
  const accounts = [...model.keys()];
  const account = accounts.length > 0 && rng.chance(0.8) ? rng.pick(accounts) : rng.pick([10000, 99999, rng.int(10000, 99999)]);
  const balance = model.get(account) ?? 0n;
  const bank = rng.chance(0.95) ? HOST : `127.0.13.${rng.int(FORWARD_BASE, 254)}`;
  const amounts = [BigInt(rng.int(0, 1000)), BigInt(rng.int(1, 100)), balance, balance + 1n, MAX - balance, MAX - balance + 1n, MAX, rng.big(MAX), 0n];
  const amount = rng.chance(0.6) ? amounts[rng.int(0, 1)]! : rng.pick(amounts);
  const shown = amount > MAX ? MAX : amount < 0n ? 0n : amount;
  switch (code) {
    case "AD":
    case "AW":
      return `${code} ${account}/${bank} ${shown}`;
    case "AB":
    case "AR":
      return `${code} ${account}/${bank}`;
    default:
      return code;
  }
}

const ODD_SEPARATORS = [",", ";", "\u00a0", "\u3000", "\u2003", "\x0b", "\x0c", "", "_", "/", "\u200b", "\x00"];
const END_PADS = [" ", "\t", "  \t ", "\u00a0", "\ufeff", "\x0b", "\x0c", "\x00", "\u200b", "\u2028", "\u3000"];
const ODD_DIGITS = ["٣", "３", "²", "①", "Ⅷ", "-", "+", ".", "e", "_", ",", "x", " ", "0x"];
const UNICODE = ["é", "ß", "İ", "ı", "😀", "\u0301", "\u202e", "\ufffd", "\u2028", "字", "Ω", "\ud83d\ude00", "ﬀ", "ǅ", "\u0085"];
const INVALID_UTF8 = [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe]];
const HUGE = [
  "9223372036854775808",
  "18446744073709551616",
  "99999999999999999999",
  "10000000000000000000",
  "9223372036854775807",
  "09223372036854775807",
  "92233720368547758070",
];
const BAD_IPS = ["256.0.0.1", `${HOST}.`, `.${HOST}`, "127.0.12", "127.0.12.4.5", "127.0.012.4", "127.00.12.4", "localhost", "", "127.0.12.4/5", "１２７.0.12.4", "127.0.12.-4", " 127.0.12.4"];

function insertAt(text: string, at: number, piece: string): string {
  return text.slice(0, at) + piece + text.slice(at);
}

/** Positions of [start, end) of every field (runs of non-space). */
function fieldSpans(text: string): [number, number][] {
  return [...text.matchAll(/[^ ]+/g)].map((m) => [m.index!, m.index! + m[0].length]);
}

const MUTATIONS: ((text: string, rng: Rng) => string)[] = [
  // case
  (t, rng) => [...t].map((c) => (rng.chance(0.5) ? c.toLowerCase() : c.toUpperCase())).join(""),
  // separators: wider (valid) or odd (not)
  (t, rng) => t.replace(/ /g, () => Array.from({ length: rng.int(1, 4) }, () => rng.pick([" ", "\t"])).join("")),
  (t, rng) => {
    const spaces = [...t.matchAll(/ /g)].map((m) => m.index!);
    if (spaces.length === 0) return t + rng.pick(ODD_SEPARATORS) + "5";
    const at = rng.pick(spaces);
    return t.slice(0, at) + rng.pick(ODD_SEPARATORS) + t.slice(at + 1);
  },
  // whitespace and junk at the ends
  (t, rng) => rng.pick(END_PADS) + t,
  (t, rng) => t + rng.pick(END_PADS),
  // digits: delete, double, change, replace by a non-ASCII digit or a sign
  (t, rng) => {
    const digits = [...t.matchAll(/[0-9]/g)].map((m) => m.index!);
    if (digits.length === 0) return t + rng.int(0, 9);
    const at = rng.pick(digits);
    switch (rng.int(0, 3)) {
      case 0:
        return t.slice(0, at) + t.slice(at + 1);
      case 1:
        return insertAt(t, at, t[at]!);
      case 2:
        return t.slice(0, at) + rng.int(0, 9) + t.slice(at + 1);
      default:
        return t.slice(0, at) + rng.pick(ODD_DIGITS) + t.slice(at + 1);
    }
  },
  // a leading zero on some field
  (t, rng) => {
    const spans = fieldSpans(t).slice(1);
    return spans.length === 0 ? t : insertAt(t, rng.pick(spans)[0], "0");
  },
  // huge or edge numbers as the last field
  (t, rng) => {
    const spans = fieldSpans(t);
    const last = spans.at(-1)!;
    return spans.length < 2 ? `${t} ${rng.pick(HUGE)}` : t.slice(0, last[0]) + rng.pick(HUGE) + t.slice(last[1]);
  },
  // fields: drop one, double one, add one
  (t, rng) => {
    const f = t.split(" ");
    const i = rng.int(0, f.length - 1);
    switch (rng.int(0, 2)) {
      case 0:
        f.splice(i, 1);
        break;
      case 1:
        f.splice(i, 0, f[i]!);
        break;
      default:
        f.push(rng.pick(["5", "x", "10001/127.0.12.4", "AD"]));
    }
    return f.join(" ");
  },
  // Unicode and control characters anywhere
  (t, rng) => insertAt(t, rng.int(0, t.length), rng.pick(UNICODE)),
  (t, rng) => {
    let code = rng.int(0, 0x20);
    if (code === 0x0a || code === 0x0d || code === 0x20) code = 0x7f;
    return insertAt(t, rng.int(0, t.length), String.fromCharCode(code));
  },
  // the account/ip field
  (t, rng) => t.replace(/\//, rng.pick(["//", "\\", "", "／", "/ ", " /", "/0"])),
  (t, rng) => t.replace(/\/[0-9.]+/, `/${rng.pick(BAD_IPS)}`),
  (t, rng) => t.replace(/\/[0-9.]+/, `/127.0.13.${rng.int(FORWARD_BASE, 254)}`),
  (t, rng) => t.replace(/^[0-9]{5}|(?<= )[0-9]{5}(?=\/)/, String(rng.pick([0, 9999, 100000, 1000, 123456, 10000, 99999]))),
  // the code
  (t, rng) => rng.pick(["AC", "AD", "AW", "AB", "AR", "BA", "BN", "BC", "XX", "A", "ADD", "ＡＤ", "A D", "Ad", "rp", "?"]) + t.slice(2),
  // cut short
  (t, rng) => t.slice(0, rng.int(0, t.length)),
];

/** One line as bytes (never containing CR or LF), and what it must get. */
function generate(rng: Rng, model: Model): { bytes: Uint8Array; expectation: Exclude<Expectation, { kind: "regenerate" }> } {
  for (;;) {
    let bytes: Uint8Array;
    const r = rng.next();
    if (r < 0.01) {
      // Blank lines: no reply.
      bytes = Buffer.from(rng.pick(["", " ", "\t", " \t  "]));
    } else if (r < 0.02) {
      // The 8 KiB edge: a valid command padded with spaces to exactly the limit, or one byte over.
      const text = validLine(rng, model);
      const size = MAX_LINE_BYTES + rng.int(-1, 1);
      bytes = Buffer.from(rng.chance(0.5) ? text + " ".repeat(size - text.length) : " ".repeat(size - text.length) + text);
    } else if (r < 0.025) {
      // Far over: junk with or without a valid start.
      bytes = Buffer.from(validLine(rng, model) + "9".repeat(rng.int(8200, 40000)));
    } else {
      let text = validLine(rng, model);
      if (rng.chance(0.5)) {
        for (let n = rng.int(1, 3); n > 0; n--) text = rng.pick(MUTATIONS)(text, rng);
      }
      bytes = Buffer.from(text);
      if (rng.chance(0.05)) {
        const at = rng.int(0, bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(rng.pick(INVALID_UTF8)), bytes.subarray(at)]);
      }
    }
    if (bytes.includes(0x0a) || bytes.includes(0x0d)) continue;
    const expectation = expectationOf(bytes);
    if (expectation.kind !== "regenerate") return { bytes, expectation };
  }
}

// ---------------------------------------------------------------------------------------------------

function show(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.subarray(0, 120)).toString("latin1");
  return JSON.stringify(text) + (bytes.length > 120 ? `… (${bytes.length} bytes)` : "");
}

async function assertLedger(client: BankClient, model: Model, what: string): Promise<void> {
  const list = [...model.keys()];
  const replies = await pipeline(client, [...list.map((a) => `AB ${a}/${HOST}`), "BA", "BN"]);
  list.forEach((a, i) => assert.equal(replies[i], `AB ${model.get(a)}`, `${what}: account ${a}`));
  assert.equal(replies[list.length], `BA ${[...model.values()].reduce((s, b) => s + b, 0n)}`, `${what}: BA`);
  assert.equal(replies[list.length + 1], `BN ${model.size}`, `${what}: BN`);
}

describe("fuzz", { timeout: 60_000 }, () => {
  it(`answers ${LINES} mutated lines exactly as the protocol says (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    let bank: BankProcess = await startBank(CONFIG);
    const pid = bankPid(bank);
    const client = await bank.client();
    const model: Model = new Map();
    const tally = { none: 0, error: 0, success: 0, refused: 0, either: 0, forwards: 0 };
    const ends = ["\n", "\r\n", "\r"];

    for (let sent = 0, batchNo = 0; sent < LINES; batchNo++) {
      const batch = Array.from({ length: Math.min(BATCH, LINES - sent) }, () => generate(rng, model));
      sent += batch.length;
      const parts: Uint8Array[] = [];
      for (const { bytes } of batch) parts.push(bytes, Buffer.from(rng.pick(ends)));
      // A sentinel: if any line got two replies or none, this one lands on the wrong slot.
      parts.push(Buffer.from("bC\r\n"));
      client.write(Buffer.concat(parts));

      for (const [i, { bytes, expectation }] of batch.entries()) {
        const where = `seed ${SEED}, batch ${batchNo}, line ${i}: ${show(bytes)}`;
        if (expectation.kind === "none") {
          tally.none++;
          continue;
        }
        const reply = await client.readLine(10_000);
        assert.ok(reply !== undefined, `${where}: the connection closed`);
        assert.doesNotMatch(reply, /[\x00-\x1f\x7f]/, `${where}: control characters in the reply ${JSON.stringify(reply)}`);
        assert.doesNotMatch(reply, /^ER Internal error/, `${where}: internal error`);
        if (expectation.kind === "error") {
          assert.match(reply, /^ER ./, `${where}: expected ER, got '${reply}'`);
          tally.error++;
          continue;
        }
        const { cmd, erAllowed } = expectation;
        if ("bank" in cmd && cmd.bank !== HOST) tally.forwards++;
        if (erAllowed) tally.either++;
        const success = predict(cmd, model);
        if (reply.startsWith("ER ") && (success === undefined || erAllowed)) {
          tally.refused++;
          continue;
        }
        assert.ok(success !== undefined, `${where}: expected ER (model: ${JSON.stringify(cmd, big)}), got '${reply}'`);
        if (success instanceof RegExp) {
          const m = success.exec(reply);
          assert.ok(m, `${where}: expected AC <account>/${HOST}, got '${reply}'`);
          assert.ok(!model.has(Number(m[1])), `${where}: AC gave ${m[1]}, which is open already`);
        } else {
          assert.equal(reply, success, `${where}: wrong reply`);
        }
        apply(cmd, model, reply);
        tally.success++;
      }
      assert.equal(await client.readLine(10_000), `BC ${HOST}`, `seed ${SEED}, batch ${batchNo}: the sentinel got another reply`);
      assert.ok(alive(pid), `seed ${SEED}, batch ${batchNo}: the bank died`);
    }

    await assertLedger(client, model, "after the fuzz");
    // Random accounts the model does not hold do not exist in the bank either.
    const absent = Array.from({ length: 50 }, () => rng.int(10000, 99999)).filter((a) => !model.has(a));
    const replies = await pipeline(client, absent.map((a) => `AB ${a}/${HOST}`));
    replies.forEach((r, i) => assert.match(r, /^ER /, `account ${absent[i]} exists but the model does not have it`));
    client.close();

    // And the same after a restart.
    assert.equal(await bank.stop(), 0);
    bank = await startBank(CONFIG, bank.dir);
    const again = await bank.client();
    await assertLedger(again, model, "after a restart");
    again.close();
    await bank.stop();
    console.log(
      `fuzz: seed ${SEED}, ${LINES} lines: ${tally.success} successes, ${tally.refused} refused valid commands, ${tally.error} malformed -> ER, ` +
        `${tally.none} blank, ${tally.forwards} forwards, ${tally.either} whitespace-ambiguous; ${model.size} accounts, total ${[...model.values()].reduce((s, b) => s + b, 0n)}`,
    );
  });
});
