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
    assert.deepEqual(feed(Uint8Array.of(0x42, 0x43, 0xff, 0x0a), "BA\n"), ["<invalid_utf8>", "BA"]);
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
