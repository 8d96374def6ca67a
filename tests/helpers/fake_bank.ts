/**
 * A small in-memory bank that follows the protocol except for one rule it is told to break: the kinds
 * of failure seen in students' banks, for testing `bank check`. Listens on 127.x.y.z:65525–65535 only.
 */
import { Buffer } from "node:buffer";
import { createServer, type Socket } from "node:net";
import { BankDirectory } from "../../src/peers/directory.ts";
import { MAX_AMOUNT, parseBankCode } from "../../src/protocol/values.ts";

/** The rule a fake bank breaks. */
export type Break =
  /** Takes the end of every TCP read for the end of a line: a split command gets two ERs. */
  | "split-reads"
  /** Takes everything up to the read that ends in LF for one command: two commands in one packet are mangled into one. */
  | "one-command-per-read"
  /** Never answers a line that does not end in CR LF. */
  | "crlf-only"
  /** Ends replies with `\r\r\n`. */
  | "ending-crcrlf"
  /** Ends replies with `\n\r`. */
  | "ending-lfcr"
  /** Answers errors with a Czech sentence, no ER. */
  | "errors-without-er"
  /** Lets a balance grow past 2^63−1. */
  | "no-overflow-check"
  /** Sums balances in a double. */
  | "ba-float"
  /** Sums balances in a signed 64-bit integer and answers ER when that overflows (SQLite's SUM). */
  | "ba-error"
  /** Forwards without a deadline of its own. */
  | "forward-no-timeout"
  /** Never forwards: an account of another bank is looked up among its own. */
  | "no-forwarding"
  /** BC names the address of the caller. */
  | "bc-caller"
  /** Refuses command codes that are not upper case. */
  | "case-sensitive";

/** How a fake bank behaves. */
export interface FakeBankOptions {
  host: string;
  port: number;
  breaks?: Break;
  /** Its deadline for forwards (ms). */
  timeoutMs: number;
  /** What account 10000 (someone else's) holds from the start; default 1000. */
  balance?: bigint;
}

/** A running fake bank. */
export interface FakeBank {
  /** Balances by account number: what the checks may and may not have touched. */
  readonly accounts: Map<number, bigint>;
  close(): Promise<void>;
}

const LF = 0x0a;
const CR = 0x0d;
const MAX_LINE = 8192;
const TOO_LONG = Symbol("too long");
const INVALID = Symbol("invalid UTF-8");
type Line = string | typeof TOO_LONG | typeof INVALID;

/** Splits a connection's bytes into lines the way the protocol says (or as the broken framings do). */
class Framer {
  #pending: number[] = [];
  #skipLf = false;
  #discarding = false;
  #whole: Buffer[] = [];
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(readonly mode: Break | undefined) {}

  push(chunk: Buffer): Line[] {
    if (this.mode === "one-command-per-read") {
      this.#whole.push(chunk);
      if (chunk.at(-1) !== LF) return [];
      const text = Buffer.concat(this.#whole.splice(0)).toString("utf8");
      return [text];
    }
    if (this.mode === "crlf-only") {
      const lines: Line[] = [];
      for (const byte of chunk) {
        if (byte === LF) {
          const line = this.#pending.splice(0);
          if (line.at(-1) === CR) lines.push(this.#decode(line.slice(0, -1)));
        } else this.#pending.push(byte);
      }
      return lines;
    }
    const lines: Line[] = [];
    for (const byte of chunk) {
      if (this.#skipLf) {
        this.#skipLf = false;
        if (byte === LF) continue;
      }
      if (byte === LF || byte === CR) {
        if (!this.#discarding) lines.push(this.#decode(this.#pending.splice(0)));
        this.#discarding = false;
        this.#skipLf = byte === CR;
      } else if (!this.#discarding) {
        this.#pending.push(byte);
        if (this.#pending.length > MAX_LINE) {
          lines.push(TOO_LONG);
          this.#pending = [];
          this.#discarding = true;
        }
      }
    }
    if (this.mode === "split-reads" && this.#pending.length > 0) lines.push(this.#decode(this.#pending.splice(0)));
    return lines;
  }

  #decode(bytes: number[]): Line {
    try {
      return this.#decoder.decode(new Uint8Array(bytes));
    } catch {
      return INVALID;
    }
  }
}

/** Starts a fake bank; resolves once it listens. Account 10000 holds someone else's money from the start. */
export async function startFakeBank(options: FakeBankOptions): Promise<FakeBank> {
  const { host, port, breaks } = options;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new RangeError(`fake banks live on 127.0.0.0/8 only, not ${host}`);
  const accounts = new Map<number, bigint>([[10000, options.balance ?? 1000n]]);
  const directory = new BankDirectory({ timeoutMs: breaks === "forward-no-timeout" ? 3_600_000 : options.timeoutMs, localAddress: host });
  const sockets = new Set<Socket>();
  const ending = breaks === "ending-crcrlf" ? "\r\r\n" : breaks === "ending-lfcr" ? "\n\r" : "\r\n";
  const er = (message: string) => (breaks === "errors-without-er" ? "Špatný příkaz" : `ER ${message}`);

  const account = (text: string | undefined): { number: number; bank: string } | string => {
    const match = /^([0-9]+)\/(.*)$/.exec(text ?? "");
    if (match === null || !/^[1-9][0-9]{4}$/.test(match[1]!)) return er("Bad account.");
    if (parseBankCode(match[2]!) === undefined) return er("Bad bank code.");
    return { number: Number(match[1]), bank: match[2]! };
  };
  const amount = (text: string | undefined): bigint | string => {
    if (!/^(0|[1-9][0-9]*)$/.test(text ?? "")) return er("Bad number.");
    const n = BigInt(text!);
    return n > MAX_AMOUNT ? er("Number too large.") : n;
  };

  const answer = async (line: string, socket: Socket): Promise<string | undefined> => {
    const fields = line.trim().split(/[ \t]+/);
    if (fields[0] === "") return undefined;
    const code = breaks === "case-sensitive" ? fields[0]! : fields[0]!.toUpperCase();
    const arity: Record<string, number> = { BC: 0, AC: 0, BA: 0, BN: 0, AB: 1, AR: 1, AD: 2, AW: 2 };
    if (!(code in arity)) return er("Unknown command.");
    if (fields.length !== arity[code]! + 1) return er(`${code} has the wrong number of fields.`);
    if (code === "BC") return `BC ${breaks === "bc-caller" ? socket.remoteAddress : host}`;
    if (code === "BN") return `BN ${accounts.size}`;
    if (code === "BA") {
      const sum = [...accounts.values()].reduce((a, b) => a + b, 0n);
      if (breaks === "ba-float") return `BA ${Number(sum)}`;
      if (breaks === "ba-error" && sum > MAX_AMOUNT) return er("integer overflow");
      return `BA ${sum}`;
    }
    if (code === "AC") {
      let n = 10000;
      while (accounts.has(n)) n++;
      accounts.set(n, 0n);
      return `AC ${n}/${host}`;
    }
    const ref = account(fields[1]);
    if (typeof ref === "string") return ref;
    const value = fields[2] === undefined ? 0n : amount(fields[2]);
    if (typeof value === "string") return value;
    if (ref.bank !== host && breaks !== "no-forwarding") {
      const canonical = [code, `${ref.number}/${ref.bank}`, ...fields.slice(2)].join(" ");
      return directory.forward(ref.bank as never, canonical).catch(() => er(`The bank ${ref.bank} cannot be reached.`));
    }
    const balance = accounts.get(ref.number);
    if (balance === undefined) return er(`Account ${ref.number} does not exist.`);
    switch (code) {
      case "AB":
        return `AB ${balance}`;
      case "AD":
        if (balance + value > MAX_AMOUNT && breaks !== "no-overflow-check") return er("Balance would be too large.");
        accounts.set(ref.number, balance + value);
        return "AD";
      case "AW":
        if (value > balance) return er("Insufficient funds.");
        accounts.set(ref.number, balance - value);
        return "AW";
      default:
        if (balance !== 0n) return er("Account still holds money.");
        accounts.delete(ref.number);
        return "AR";
    }
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const framer = new Framer(breaks);
    // Replies leave in command order, even when a forward takes a while.
    let queue: Promise<void> = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      for (const line of framer.push(chunk)) {
        const reply = line === TOO_LONG ? er("Line too long.") : line === INVALID ? er("Not UTF-8.") : answer(line, socket);
        queue = queue.then(async () => {
          const text = await reply;
          if (text !== undefined && !socket.destroyed) socket.write(`${text}${ending}`);
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  return {
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
