/** Splits a byte stream into lines per PROTOCOL.md: LF, CR LF or a lone CR; 8 KiB cap; UTF-8 check. */
import { Buffer } from "node:buffer";

/** What the framer found: a line, or a line it refused. */
export type Frame =
  | { readonly kind: "line"; readonly text: string }
  | { readonly kind: "too_long" }
  | { readonly kind: "invalid_utf8" };

/** The longest line accepted, in bytes, without its line end. */
export const MAX_LINE_BYTES = 8192;

const LF = 0x0a;
const CR = 0x0d;

/** Incremental line splitter for one connection; memory stays below MAX_LINE_BYTES per connection. */
export class LineFramer {
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  readonly #maxBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The current line was over the cap: it was answered once and is dropped up to its end. */
  #discarding = false;
  /** The last line ended with a CR at the very end of a chunk: an LF starting the next is part of it. */
  #skipLf = false;

  constructor(maxBytes = MAX_LINE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    if (this.#skipLf && chunk.length > 0) {
      if (chunk[0] === LF) start = 1;
      this.#skipLf = false;
    }
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      this.#endLine(chunk.subarray(start, i), frames);
      if (byte === CR) {
        if (i + 1 === chunk.length) this.#skipLf = true;
        else if (chunk[i + 1] === LF) i++;
      }
      start = i + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start), frames);
    return frames;
  }

  #keep(part: Uint8Array, frames: Frame[]): void {
    if (this.#discarding) return;
    if (this.#pendingBytes + part.length > this.#maxBytes) {
      frames.push({ kind: "too_long" });
      this.#discarding = true;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    // A real copy (Buffer#slice would be a view): a few leftover bytes must not pin a whole 64 KiB chunk.
    this.#pending.push(new Uint8Array(part));
    this.#pendingBytes += part.length;
  }

  #endLine(tail: Uint8Array, frames: Frame[]): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    let bytes = tail;
    if (this.#pendingBytes > 0) {
      bytes = Buffer.concat([...this.#pending, tail]);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (bytes.length > this.#maxBytes) {
      frames.push({ kind: "too_long" });
      return;
    }
    try {
      frames.push({ kind: "line", text: this.#decoder.decode(bytes) });
    } catch {
      frames.push({ kind: "invalid_utf8" });
    }
  }
}
