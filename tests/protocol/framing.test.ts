/** LineFramer: bytes -> lines per PROTOCOL.md (LF, CR LF, lone CR across chunks, 8 KiB cap, UTF-8 check). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Frame, LineFramer, MAX_LINE_BYTES } from "../../src/protocol/framing.ts";

const enc = new TextEncoder();

/** Feeds the chunks in order and returns every frame, as short strings: the text, `<too_long>` or `<invalid_utf8>`. */
function feed(...chunks: (string | Uint8Array)[]): string[] {
  const framer = new LineFramer();
  const out: string[] = [];
  for (const chunk of chunks) {
    for (const frame of framer.push(typeof chunk === "string" ? enc.encode(chunk) : chunk)) out.push(show(frame));
  }
  return out;
}

function show(frame: Frame): string {
  return frame.kind === "line" ? frame.text : `<${frame.kind}>`;
}

/** Only the lines with content: blank lines get no reply, so where they appear does not matter. */
function nonBlank(frames: string[]): string[] {
  return frames.filter((f) => f.trim() !== "");
}

describe("LineFramer line ends", () => {
  it("splits on LF", () => {
    assert.deepEqual(feed("BC\n"), ["BC"]);
  });

  it("drops the CR of CR LF", () => {
    assert.deepEqual(feed("BC\r\n"), ["BC"]);
  });

  it("ends a line on a lone CR", () => {
    assert.deepEqual(feed("BC\rBA\r"), ["BC", "BA"]);
  });

  it("keeps a line without its end pending until the end arrives", () => {
    const framer = new LineFramer();
    assert.deepEqual(framer.push(enc.encode("BC")), []);
    assert.deepEqual(framer.push(enc.encode("\n")).map(show), ["BC"]);
  });

  it("treats a CR at the end of one chunk and an LF at the start of the next as one line end", () => {
    assert.deepEqual(feed("BC\r", "\nBA\n"), ["BC", "BA"]);
  });

  it("still ends a line on a CR at a chunk end followed by an ordinary byte", () => {
    assert.deepEqual(feed("BC\r", "BA\n"), ["BC", "BA"]);
  });

  it("treats a CR at a chunk end, an empty chunk, then an LF as one line end", () => {
    assert.deepEqual(feed("BC\r", new Uint8Array(0), "\nBA\n"), ["BC", "BA"]);
  });

  it("yields only one non-blank line for \\r\\r\\n", () => {
    const frames = feed("BC\r\r\nBA\r\r\n");
    assert.deepEqual(nonBlank(frames), ["BC", "BA"]);
    assert.ok(frames.every((f) => !f.includes("\r") && !f.includes("\n")), JSON.stringify(frames));
  });

  it("yields several lines of one chunk in order", () => {
    assert.deepEqual(feed("BC\nBA\r\nBN\rAC\n"), ["BC", "BA", "BN", "AC"]);
  });

  it("reassembles a line split byte by byte", () => {
    const bytes = enc.encode("AD 10000/127.0.0.1 123\r\n");
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    assert.deepEqual(feed(...chunks), ["AD 10000/127.0.0.1 123"]);
  });

  it("yields an empty line for a bare line end", () => {
    assert.deepEqual(feed("\n"), [""]);
  });

  it("keeps spaces and tabs inside the line for the parser to trim", () => {
    assert.deepEqual(feed("  BC\t \n"), ["  BC\t "]);
  });
});

describe("LineFramer UTF-8", () => {
  it("reassembles a multi-byte character split across chunks", () => {
    const bytes = enc.encode("Špatný příkaz\n");
    // "Š" is 0xC5 0xA0: cut between its two bytes, and again inside "ř".
    const cuts = [1, 11];
    const chunks = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])];
    assert.deepEqual(feed(...chunks), ["Špatný příkaz"]);
  });

  it("reassembles a 4-byte character split into single bytes", () => {
    const bytes = enc.encode("x😀y\n");
    assert.deepEqual(feed(...Array.from(bytes, (b) => Uint8Array.of(b))), ["x😀y"]);
  });

  it("refuses invalid UTF-8 and carries on with the next line", () => {
    assert.deepEqual(feed(Uint8Array.of(0x42, 0x43, 0xfe, 0x0a), "BA\n"), ["<invalid_utf8>", "BA"]);
  });

  it("refuses a truncated multi-byte sequence at the line end", () => {
    assert.deepEqual(feed(Uint8Array.of(0x41, 0xc5, 0x0a), "BA\n"), ["<invalid_utf8>", "BA"]);
  });

  it("refuses an overlong encoding", () => {
    // 0xC0 0xAF is an overlong "/": never valid UTF-8.
    assert.deepEqual(feed(Uint8Array.of(0xc0, 0xaf, 0x0a)), ["<invalid_utf8>"]);
  });
});

describe("LineFramer length cap", () => {
  it("accepts a line of exactly 8192 bytes", () => {
    assert.equal(MAX_LINE_BYTES, 8192);
    const line = "A".repeat(8192);
    assert.deepEqual(feed(`${line}\n`), [line]);
  });

  it("accepts an 8192-byte line of multi-byte characters arriving in pieces", () => {
    const line = "č".repeat(4096); // 2 bytes each
    const bytes = enc.encode(`${line}\r\n`);
    assert.deepEqual(feed(bytes.subarray(0, 3001), bytes.subarray(3001, 8191), bytes.subarray(8191)), [line]);
  });

  it("refuses an 8193-byte line in one chunk once, and parses the next line", () => {
    assert.deepEqual(feed(`${"A".repeat(8193)}\nBC\n`), ["<too_long>", "BC"]);
  });

  it("refuses a long line arriving in many chunks once, discards it to its end, and parses the next line", () => {
    const chunks: string[] = [];
    for (let i = 0; i < 40; i++) chunks.push("B".repeat(1000));
    chunks.push("tail\r\nBC\n");
    assert.deepEqual(feed(...chunks), ["<too_long>", "BC"]);
  });

  it("refuses 8193 bytes once when the line end arrives in a later chunk", () => {
    assert.deepEqual(feed("A".repeat(8193), "\n", "BA\n"), ["<too_long>", "BA"]);
  });

  it("counts the line in bytes, not characters", () => {
    // 4097 two-byte characters: 4097 characters, 8194 bytes.
    assert.deepEqual(feed(`${"č".repeat(4097)}\nBC\n`), ["<too_long>", "BC"]);
  });

  it("discards a refused line up to a lone CR too", () => {
    assert.deepEqual(feed("A".repeat(9000), "A".repeat(10), "\r", "\nBN\n"), ["<too_long>", "BN"]);
  });

  it("answers a megabyte without a line end only once", () => {
    const framer = new LineFramer();
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const frames: string[] = [];
    for (let i = 0; i < 16; i++) frames.push(...framer.push(chunk).map(show));
    frames.push(...framer.push(enc.encode("\nBC\n")).map(show));
    assert.deepEqual(frames, ["<too_long>", "BC"]);
  });
});

/** Asserts the frames of `bytes` whole, split in two at every position, and byte by byte. */
function assertEverySplit(bytes: Uint8Array, expected: string[]): void {
  const label = JSON.stringify(Array.from(bytes, (b) => b.toString(16)));
  assert.deepEqual(feed(bytes), expected, `whole ${label}`);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(feed(bytes.subarray(0, cut), bytes.subarray(cut)), expected, `cut at ${cut} of ${label}`);
  }
  assert.deepEqual(feed(...Array.from(bytes, (b) => Uint8Array.of(b))), expected, `byte by byte ${label}`);
}

/** Text with bytes given as numbers where they are not text. */
function bytesOf(...parts: (string | number)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === "number" ? [p] : enc.encode(p)));
  return Uint8Array.from(out);
}

const IAC = 0xff;

describe("LineFramer at a terminal (PuTTY raw, telnet)", () => {
  it("lets Backspace and DEL erase the character before them", () => {
    assertEverySplit(bytesOf("BX", 0x7f, "C\r\n"), ["BC"]);
    assertEverySplit(bytesOf("BX", 0x08, "C\r\n"), ["BC"]);
    assertEverySplit(bytesOf("AD 10000/127.0.0.1 12", 0x7f, 0x7f, "34\n"), ["AD 10000/127.0.0.1 34"]);
  });

  it("erases a whole UTF-8 character, and nothing before the start of the line", () => {
    assertEverySplit(bytesOf("Ač", 0x7f, "\n"), ["A"]);
    assertEverySplit(bytesOf("😀", 0x08, "BC\n"), ["BC"]);
    assertEverySplit(bytesOf("B", 0x7f, 0x7f, 0x7f, "BN\n"), ["BN"]);
    assertEverySplit(bytesOf("BC\n", 0x7f, "BN\n"), ["BC", "BN"]);
  });

  it("removes telnet option negotiation from the stream", () => {
    // What a telnet client sends first: WILL NAWS, WILL TSPEED, DO SUPPRESS-GO-AHEAD, then the command.
    assertEverySplit(bytesOf(IAC, 0xfb, 0x1f, IAC, 0xfb, 0x20, IAC, 0xfd, 0x03, "BC\r\n"), ["BC"]);
    assertEverySplit(bytesOf("B", IAC, 0xfe, 0x01, "C\r\n"), ["BC"]);
  });

  it("removes a telnet subnegotiation, an escaped IAC inside it included", () => {
    assertEverySplit(bytesOf(IAC, 0xfa, 0x1f, 0x00, 0x50, 0x00, 0x18, IAC, 0xf0, "BN\r\n"), ["BN"]);
    assertEverySplit(bytesOf(IAC, 0xfa, 0x18, 0x00, IAC, IAC, 0x0a, 0x41, IAC, 0xf0, "BC\n"), ["BC"]);
  });

  it("reads IAC IAC as a literal 0xFF byte, which is not UTF-8", () => {
    assertEverySplit(bytesOf("B", IAC, IAC, "C\n", "BA\n"), ["<invalid_utf8>", "BA"]);
  });

  it("honours telnet's erase character and erase line", () => {
    assertEverySplit(bytesOf("BX", IAC, 0xf7, "C\n"), ["BC"]);
    assertEverySplit(bytesOf("AC 1", IAC, 0xf8, "BN\n"), ["BN"]);
  });

  it("ends a line on CR NUL without leaving the NUL on the next line", () => {
    assertEverySplit(bytesOf("BC\r", 0x00, "BN\r", 0x00), ["BC", "BN"]);
  });

  it("drops other control bytes (Ctrl+C, Ctrl+D, NUL, bell)", () => {
    assertEverySplit(bytesOf("B", 0x03, "C", 0x04, 0x00, 0x07, "\n"), ["BC"]);
  });

  it("drops the escape sequences of arrow and function keys", () => {
    assertEverySplit(bytesOf("B", 0x1b, "[A", "C", 0x1b, "[D", "\n"), ["BC"]);
    assertEverySplit(bytesOf(0x1b, "OA", "B", 0x1b, "OB", "C\n"), ["BC"]);
    assertEverySplit(bytesOf(0x1b, "[1;5C", "BN", 0x1b, "[3~", "\n"), ["BN"]);
  });

  it("still ends a line on a line end that cuts an escape sequence short", () => {
    assertEverySplit(bytesOf("BC", 0x1b, "\r\n", "BN", 0x1b, "[1", "\n"), ["BC", "BN"]);
  });

  it("treats a stray IAC before an ordinary byte as nothing", () => {
    assertEverySplit(bytesOf("B", IAC, "C\n"), ["BC"]);
  });

  it("keeps erasing within the cap: a refused long line is not brought back by Backspace", () => {
    assert.deepEqual(feed("A".repeat(9000), Uint8Array.of(0x7f, 0x7f), "\nBC\n"), ["<too_long>", "BC"]);
  });
});

describe("LineFramer previews of refused lines", () => {
  it("gives the first bytes of a line that is not UTF-8, escaped", () => {
    const [frame] = new LineFramer().push(bytesOf("AB", 0xfe, "\\x\n"));
    assert.deepEqual(frame, { kind: "invalid_utf8", preview: "AB\\xfe\\x5cx" });
  });

  it("gives the first 32 bytes of a line that is too long", () => {
    const [frame] = new LineFramer().push(enc.encode(`${"Q".repeat(9000)}\n`));
    assert.deepEqual(frame, { kind: "too_long", preview: `${"Q".repeat(32)}…` });
    const framer = new LineFramer();
    const frames = [...framer.push(enc.encode("AD 10000/")), ...framer.push(enc.encode("9".repeat(9000)))];
    assert.deepEqual(frames, [{ kind: "too_long", preview: `AD 10000/${"9".repeat(23)}…` }]);
  });
});
