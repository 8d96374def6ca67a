/** One request/reply exchange with another bank, strict in what it sends and tolerant in what it reads. */
import { Buffer } from "node:buffer";
import { connect } from "node:net";
import { MAX_PORT, MIN_PORT } from "../config.ts";

/** Every port a bank may listen on, 65525–65535. */
export const BANK_PORTS: readonly number[] = Array.from({ length: MAX_PORT - MIN_PORT + 1 }, (_, i) => MIN_PORT + i);

/**
 * Why an exchange failed. Only "refused" guarantees the request was not delivered (the connection
 * was never established); after the others the other bank may have acted on it.
 */
export type PeerErrorKind = "refused" | "timeout" | "closed" | "too_long";

/** An exchange with another bank that gave no reply line. */
export class PeerError extends Error {
  /**
   * `delivered`: the request was written to an established connection, so the other bank may have acted
   * on it; false only when no connection was made (refused, or no time left to connect).
   */
  constructor(readonly kind: PeerErrorKind, message: string, readonly delivered = kind !== "refused") {
    super(message);
    this.name = "PeerError";
  }
}

/** Where an exchange connects from, and how long the connection itself may take. */
export interface ExchangeOptions {
  /** The address to connect from (our bank's, so the other bank logs who we are); default: the kernel's pick. */
  readonly localAddress?: string | undefined;
  /** Deadline for the connection alone (a scan's quick negative); default the whole `timeoutMs`. */
  readonly connectTimeoutMs?: number;
}

/** The most bytes of one reply line kept in memory; a peer streaming garbage fails with "too_long". */
export const MAX_REPLY_BYTES = 64 * 1024;

const LF = 0x0a;
/** A symbol, not a string: a peer could answer the text "too_long". */
const TOO_LONG = Symbol("too_long");
const decoder = new TextDecoder("utf-8");

/** Collects bytes up to the first non-blank line; memory bounded by MAX_REPLY_BYTES. */
class ReplyReader {
  #parts: Uint8Array[] = [];
  #bytes = 0;

  /** Feeds one chunk; returns the reply once a non-blank line is complete, TOO_LONG past the cap. */
  push(chunk: Uint8Array): string | typeof TOO_LONG | undefined {
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
      if (this.#bytes + lf - start > MAX_REPLY_BYTES) return TOO_LONG;
      const reply = this.#take(chunk.subarray(start, lf));
      // Blank lines (and lines of stray CRs) before the reply are skipped, not taken as an empty reply.
      if (reply !== "") return reply;
      start = lf + 1;
    }
    const rest = chunk.subarray(start);
    if (this.#bytes + rest.length > MAX_REPLY_BYTES) return TOO_LONG;
    // A copy (Buffer#slice would be a view): a small tail must not pin the whole chunk's memory.
    this.#parts.push(new Uint8Array(rest));
    this.#bytes += rest.length;
    return undefined;
  }

  /** The text received after the last line end, trimmed; what a peer sent before closing mid-line. */
  rest(): string {
    return this.#take(new Uint8Array(0));
  }

  #take(tail: Uint8Array): string {
    const bytes = Buffer.concat([...this.#parts, tail]);
    this.#parts = [];
    this.#bytes = 0;
    // trim() drops the CRs of `\r\n`, `\r\r\n` and `\n\r` endings along with spaces and tabs. Control
    // bytes left inside (a lone CR) would split the line we relay in two for our client: made visible.
    return decoder.decode(bytes).trim().replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "?");
  }
}

/**
 * Sends `line` + CR LF as one write to host:port and returns the first non-blank reply line, trimmed;
 * connect and reply together take at most `timeoutMs`, the connect alone at most `connectTimeoutMs`.
 * Throws PeerError.
 */
export function exchange(
  host: string,
  port: number,
  line: string,
  timeoutMs: number,
  options: ExchangeOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    // A spent deadline must not even connect: the request could be delivered before the timer fires.
    if (!(timeoutMs > 0)) {
      reject(new PeerError("timeout", `no time left to reach ${host}:${port}`, false));
      return;
    }
    const started = performance.now();
    const reader = new ReplyReader();
    let connected = false;
    let settled = false;
    const socket = connect({ host, port, localAddress: options.localAddress });
    const finish = (outcome: string | PeerError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Extra bytes after the reply are of no interest: drop the connection rather than drain it.
      socket.destroy();
      if (outcome instanceof PeerError) reject(outcome);
      else resolve(outcome);
    };
    const where = `${host}:${port}`;
    // A connect that times out is reported as "timeout", not "refused": nothing was delivered, but the
    // deadline is spent, so no caller could retry anyway.
    // A deadline is judged after the event loop's pending I/O: on a busy loop the timer and a connection
    // or reply that arrived in time are ready together, and the timer's phase runs first.
    const expire = (ms: number, onlyUnconnected: boolean) => () =>
      setImmediate(() => {
        if (onlyUnconnected && connected) return;
        finish(new PeerError("timeout", `${where} did not ${connected ? "answer" : "accept"} within ${Math.round(ms)} ms`, connected));
      });
    const connectMs = Math.min(timeoutMs, options.connectTimeoutMs ?? timeoutMs);
    let timer = setTimeout(expire(connectMs, connectMs < timeoutMs), connectMs);
    socket.on("connect", () => {
      connected = true;
      if (connectMs < timeoutMs) {
        clearTimeout(timer);
        timer = setTimeout(expire(timeoutMs, false), timeoutMs - (performance.now() - started));
      }
      // Many banks treat each TCP read as one command: the request must leave in one segment.
      socket.setNoDelay(true);
      socket.write(`${line}\r\n`);
    });
    socket.on("data", (chunk: Uint8Array) => {
      const reply = reader.push(chunk);
      if (reply === TOO_LONG) finish(new PeerError("too_long", `${where} sent more than ${MAX_REPLY_BYTES} bytes without a line end`));
      else if (reply !== undefined) finish(reply);
    });
    socket.on("error", (error: Error) => {
      const kind = connected ? "closed" : "refused";
      finish(new PeerError(kind, `${where}: ${error.message}`));
    });
    socket.on("close", () => {
      // A peer that writes its reply without a line end and then closes has still said all it will say:
      // the close ends the line. Only a close with nothing said is a failure.
      const rest = reader.rest();
      finish(rest !== "" ? rest : new PeerError(connected ? "closed" : "refused", `${where} closed the connection without a reply`));
    });
  });
}

/** The tokens after the code when `reply` is a success with that code (first token, exact case), else undefined. */
export function expectReply(reply: string, code: string): string[] | undefined {
  const [first, ...rest] = reply.trim().split(/[ \t]+/);
  return first === code ? rest : undefined;
}
