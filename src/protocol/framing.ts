/**
 * Splits a byte stream into lines per PROTOCOL.md, the way a terminal's line discipline would: LF, CR LF,
 * CR NUL or a lone CR end a line; Backspace and DEL erase the character before them; telnet negotiation
 * is removed; other control bytes and escape sequences (arrow keys) are dropped; 8 KiB cap; UTF-8 check.
 */

/** What the framer found: a line, or a line it refused (with its first bytes, escaped, for the log). */
export type Frame =
  | { readonly kind: "line"; readonly text: string }
  | { readonly kind: "too_long"; readonly preview: string }
  | { readonly kind: "invalid_utf8"; readonly preview: string };

/** The longest line accepted, in bytes, without its line end. */
export const MAX_LINE_BYTES = 8192;

const NUL = 0x00;
const BS = 0x08;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const ESC = 0x1b;
const DEL = 0x7f;
const IAC = 0xff;
/** Telnet commands after IAC: SB opens a subnegotiation, SE closes it; WILL..DONT take an option byte. */
const SE = 0xf0;
const EC = 0xf7;
const EL = 0xf8;
const SB = 0xfa;
const WILL = 0xfb;

/** Where the byte stream is between bytes; every state survives a chunk boundary. */
const State = {
  Text: 0,
  /** After a line-ending CR: one LF or NUL that follows is part of that line end. */
  AfterCr: 1,
  /** After IAC. */
  Iac: 2,
  /** After IAC WILL/WONT/DO/DONT: the option byte. */
  IacOption: 3,
  /** Inside IAC SB … IAC SE. */
  Subnegotiation: 4,
  /** After IAC inside a subnegotiation. */
  SubnegotiationIac: 5,
  /** After ESC. */
  Escape: 6,
  /** Inside a CSI sequence (ESC [ …), up to its final byte 0x40–0x7E. */
  Csi: 7,
  /** After ESC O (SS3, as arrow keys send in application mode): one more byte. */
  Ss3: 8,
} as const;
type State = (typeof State)[keyof typeof State];

/** How many bytes of a refused line the log gets. */
const PREVIEW_BYTES = 32;

/** The first bytes of a refused line, printable ASCII as is and everything else as \xHH. */
export function previewBytes(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes.subarray(0, PREVIEW_BYTES)) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > PREVIEW_BYTES ? `${out}…` : out;
}

/** A byte that needs more than copying: a line end, an editing or control byte, ESC or telnet's IAC. */
function isSpecial(byte: number): boolean {
  return (byte < 0x20 && byte !== TAB) || byte === DEL || byte === IAC;
}

/** Incremental line splitter for one connection; memory stays below MAX_LINE_BYTES per connection. */
export class LineFramer {
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  readonly #maxBytes: number;
  /** The part of the current line received in earlier chunks or edited; null while it is empty. */
  #line: Uint8Array | null = null;
  #length = 0;
  /** The current line was over the cap: it was answered once and is dropped up to its end. */
  #discarding = false;
  #state: State = State.Text;

  constructor(maxBytes = MAX_LINE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    // Start of the run of plain bytes not yet copied: a line without special bytes is decoded in place.
    let run = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#state === State.Text) {
        if (!isSpecial(byte)) continue;
        if ((byte === LF || byte === CR) && this.#length === 0 && !this.#discarding) {
          // The common case, a whole line in one chunk with nothing to edit: decoded in place, no copy.
          this.#emit(chunk.subarray(run, i), frames);
          if (byte === CR) this.#state = State.AfterCr;
          run = i + 1;
          continue;
        }
      }
      this.#append(chunk.subarray(run, i), frames);
      run = i + 1;
      this.#special(byte, frames);
    }
    this.#append(chunk.subarray(run), frames);
    return frames;
  }

  /** One byte outside a plain run: moves the state machine, edits the line or ends it. */
  #special(byte: number, frames: Frame[]): void {
    switch (this.#state) {
      case State.AfterCr:
        this.#state = State.Text;
        if (byte === LF || byte === NUL) return;
        break;
      case State.Iac:
        this.#state = State.Text;
        // Not a telnet command: the IAC was a stray byte, and this one counts as it is.
        if (byte < SE) break;
        if (byte === IAC) this.#appendByte(IAC, frames);
        else if (byte >= WILL) this.#state = State.IacOption;
        else if (byte === SB) this.#state = State.Subnegotiation;
        else if (byte === EC) this.#erase();
        else if (byte === EL) this.#length = 0;
        return;
      case State.IacOption:
        this.#state = State.Text;
        return;
      case State.Subnegotiation:
        if (byte === IAC) this.#state = State.SubnegotiationIac;
        return;
      case State.SubnegotiationIac:
        this.#state = byte === SE ? State.Text : State.Subnegotiation;
        return;
      case State.Escape:
        this.#state = State.Text;
        if (byte === 0x5b) this.#state = State.Csi;
        else if (byte === 0x4f) this.#state = State.Ss3;
        // ESC + a printable byte (Alt+key) is dropped whole; ESC + a control byte: that byte still counts.
        if (byte >= 0x20 && byte < 0x7f) return;
        break;
      case State.Csi:
        if (byte >= 0x20 && byte < 0x7f) {
          if (byte >= 0x40) this.#state = State.Text;
          return;
        }
        this.#state = State.Text;
        break;
      case State.Ss3:
        this.#state = State.Text;
        if (byte >= 0x20 && byte < 0x7f) return;
        break;
      case State.Text:
        break;
    }
    if (byte === LF || byte === CR) {
      this.#endLine(frames);
      if (byte === CR) this.#state = State.AfterCr;
    } else if (byte === BS || byte === DEL) {
      this.#erase();
    } else if (byte === IAC) {
      this.#state = State.Iac;
    } else if (byte === ESC) {
      this.#state = State.Escape;
    } else if (byte >= 0x20 && byte !== DEL) {
      // A plain byte that arrived while an escape or telnet state was being left.
      this.#appendByte(byte, frames);
    }
    // Any other control byte (Ctrl+C, Ctrl+D, NUL, …) is dropped.
  }

  /** Backspace: removes the last character of the line, all bytes of a UTF-8 sequence; nothing at its start. */
  #erase(): void {
    if (this.#discarding || this.#length === 0) return;
    const line = this.#line!;
    let end = this.#length - 1;
    // Continuation bytes (10xxxxxx) belong to the lead byte before them; a character has at most 4 bytes.
    while (end > 0 && this.#length - end < 4 && (line[end]! & 0xc0) === 0x80) end--;
    this.#length = end;
  }

  #appendByte(byte: number, frames: Frame[]): void {
    this.#append(Uint8Array.of(byte), frames);
  }

  /** Adds bytes to the current line; past the cap the line is refused once and dropped up to its end. */
  #append(part: Uint8Array, frames: Frame[]): void {
    if (part.length === 0 || this.#discarding) return;
    const needed = this.#length + part.length;
    if (needed > this.#maxBytes) {
      const head = new Uint8Array(Math.min(needed, PREVIEW_BYTES));
      head.set(this.#line?.subarray(0, Math.min(this.#length, head.length)) ?? []);
      if (this.#length < head.length) head.set(part.subarray(0, head.length - this.#length), this.#length);
      frames.push({ kind: "too_long", preview: previewBytes(head) + "…" });
      this.#discarding = true;
      this.#clear();
      return;
    }
    if (this.#line === null || this.#line.length < needed) {
      // Grows by doubling up to the cap; a real copy, so a few leftover bytes never pin a whole chunk.
      const grown = new Uint8Array(Math.min(this.#maxBytes, Math.max(64, needed * 2)));
      if (this.#line !== null) grown.set(this.#line.subarray(0, this.#length));
      this.#line = grown;
    }
    this.#line.set(part, this.#length);
    this.#length = needed;
  }

  #endLine(frames: Frame[]): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    this.#emit(this.#line === null ? new Uint8Array(0) : this.#line.subarray(0, this.#length), frames);
    this.#clear();
  }

  /** A complete line: decoded, or refused when over the cap or not UTF-8. */
  #emit(bytes: Uint8Array, frames: Frame[]): void {
    if (bytes.length > this.#maxBytes) {
      frames.push({ kind: "too_long", preview: previewBytes(bytes) });
      return;
    }
    try {
      frames.push({ kind: "line", text: this.#decoder.decode(bytes) });
    } catch {
      frames.push({ kind: "invalid_utf8", preview: previewBytes(bytes) });
    }
  }

  #clear(): void {
    this.#length = 0;
    // A long line's buffer is let go; a short one is kept for the next line of this connection.
    if (this.#line !== null && this.#line.length > 256) this.#line = null;
  }
}
