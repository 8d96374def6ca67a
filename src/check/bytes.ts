/** Bytes on the wire for the conformance check: reply lines with their exact endings, and every byte made visible. */
import { Buffer } from "node:buffer";

/** One reply line as it came: its text (trimmed, like peers/client.ts reads it) and the bytes that ended it. */
export interface ReplyLine {
  readonly text: string;
  /** What followed the text up to the next reply (`\r\n`, `\r\r\n`, `\n\r`, …); "" when the peer closed mid-line. */
  readonly ending: string;
}

const LF = 0x0a;
const decoder = new TextDecoder("utf-8");
/** The bytes that may surround a reply: the CR/LF/space/tab a tolerant reader strips. */
const SPACE = /^[\r\n \t]*$/;

/**
 * Splits what a bank sent into reply lines, read the tolerant way (to each LF, blank lines and stray
 * CRs skipped) while keeping each line's exact ending. An unterminated tail counts only once `closed`
 * (the close ends the line, as for peers/client.ts); until then it is a reply still arriving.
 */
export function replyLines(bytes: Uint8Array, closed: boolean): ReplyLine[] {
  const pieces: { text: string; raw: string }[] = [];
  let start = 0;
  for (let lf = bytes.indexOf(LF); lf !== -1; lf = bytes.indexOf(LF, start)) {
    pieces.push(piece(bytes.subarray(start, lf + 1)));
    start = lf + 1;
  }
  const tail = piece(bytes.subarray(start));
  const lines: { text: string; ending: string }[] = [];
  for (const { text, raw } of pieces) {
    // A blank line (`\n` of `\r\r\n\n`) or stray CR belongs to the ending of the reply before it.
    if (text === "") {
      if (lines.length > 0) lines.at(-1)!.ending += raw;
      continue;
    }
    // The CR of `\n\r` arrives at the start of the next line: it ends the reply before it.
    if (lines.length > 0) lines.at(-1)!.ending += raw.slice(0, raw.length - raw.trimStart().length);
    lines.push({ text, ending: raw.slice(raw.trimEnd().length) });
  }
  if (tail.text === "" && lines.length > 0) lines.at(-1)!.ending += tail.raw;
  else if (tail.text !== "" && closed) lines.push({ text: tail.text, ending: "" });
  return lines;
}

function piece(bytes: Uint8Array): { text: string; raw: string } {
  const raw = decoder.decode(bytes);
  return { text: SPACE.test(raw) ? "" : raw.trim(), raw };
}

/** The most bytes shown of one side of an exchange; longer ones are cut with their size said. */
const SHOWN_BYTES = 80;

/**
 * Every byte visible: printable text as it is, `\r` `\n` `\t` `\\` `\"`, other control bytes and
 * bytes that are not UTF-8 as `\xHH`, invisible Unicode (no-break space, zero width…) as `\u{…}`.
 */
export function escapeBytes(data: Uint8Array | string, max = SHOWN_BYTES): string {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const shown = bytes.length > max ? bytes.subarray(0, max) : bytes;
  let out = "";
  for (let i = 0; i < shown.length;) {
    const byte = shown[i]!;
    const length = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 0;
    const char = length > 1 ? validChar(shown.subarray(i, i + length), length) : undefined;
    if (length === 1) {
      out += escapeAscii(byte);
      i++;
    } else if (char !== undefined) {
      out += /[\p{C}\p{Z}]/u.test(char) ? `\\u{${char.codePointAt(0)!.toString(16).toUpperCase()}}` : char;
      i += length;
    } else {
      out += hex(byte);
      i++;
    }
  }
  return bytes.length > max ? `${out}… (${bytes.length} bytes)` : out;
}

function escapeAscii(byte: number): string {
  switch (byte) {
    case 0x0d:
      return "\\r";
    case 0x0a:
      return "\\n";
    case 0x09:
      return "\\t";
    case 0x5c:
      return "\\\\";
    case 0x22:
      return '\\"';
    default:
      return byte < 0x20 || byte === 0x7f ? hex(byte) : String.fromCharCode(byte);
  }
}

function hex(byte: number): string {
  return `\\x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** The one character `bytes` encode in UTF-8 (shortest form, continuation bytes in place), else undefined. */
function validChar(bytes: Uint8Array, length: number): string | undefined {
  if (bytes.length < length) return undefined;
  for (let k = 1; k < length; k++) if ((bytes[k]! & 0xc0) !== 0x80) return undefined;
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return [...text].length === 1 && !text.includes("\uFFFD") ? text : undefined;
}
