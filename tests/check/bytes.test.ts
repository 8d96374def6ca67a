/** Reply lines with their exact endings, and bytes made visible: the pure half of `bank check`'s reading and report. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { escapeBytes, replyLines } from "../../src/check/bytes.ts";

const lines = (text: string, closed = false) => replyLines(Buffer.from(text, "utf8"), closed);

test("each reply keeps the exact bytes that ended it", () => {
  for (const ending of ["\r\n", "\n", "\r\r\n", "\r\r\n\n", "\n\r"]) {
    assert.deepEqual(lines(`BN 5${ending}`), [{ text: "BN 5", ending }], JSON.stringify(ending));
  }
});

test("the CR of a \\n\\r ending ends the reply before it, not the next one", () => {
  assert.deepEqual(lines("BC 1.2.3.4\n\rBN 0\n\r"), [
    { text: "BC 1.2.3.4", ending: "\n\r" },
    { text: "BN 0", ending: "\n\r" },
  ]);
});

test("blank lines and stray CRs are not replies", () => {
  assert.deepEqual(lines("\r\n\r\nBC 1.2.3.4\r\n\r\n").map((l) => l.text), ["BC 1.2.3.4"]);
});

test("an unterminated tail is a reply only once the bank closed the connection", () => {
  assert.deepEqual(lines("AB 100\r\nER half"), [{ text: "AB 100", ending: "\r\n" }]);
  assert.deepEqual(lines("AB 100\r\nER half", true).map((l) => [l.text, l.ending]), [["AB 100", "\r\n"], ["ER half", ""]]);
});

test("escaping shows line ends, control bytes, quotes and backslashes", () => {
  assert.equal(escapeBytes("BC\r\n"), "BC\\r\\n");
  assert.equal(escapeBytes("a\tb\x00\x1b\x7f\"\\"), 'a\\tb\\x00\\x1B\\x7F\\"\\\\');
});

test("escaping keeps readable text and shows invisible characters and broken UTF-8", () => {
  assert.equal(escapeBytes("Špatný příkaz"), "Špatný příkaz");
  assert.equal(escapeBytes("AB\u00a010000"), "AB\\u{A0}10000");
  assert.equal(escapeBytes(new Uint8Array([0x41, 0xc3, 0x28, 0xff])), "A\\xC3(\\xFF");
});

test("escaping cuts long data and says how long it was", () => {
  const shown = escapeBytes("X".repeat(9000));
  assert.ok(shown.endsWith("… (9000 bytes)"), shown);
  assert.ok(shown.length < 120);
});
