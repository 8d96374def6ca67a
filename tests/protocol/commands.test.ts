/** parseCommand and formatCommand: every command, every refusal, the canonical wire form. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Command, formatCommand, parseCommand, usage } from "../../src/protocol/commands.ts";
import { BankError, type ErrorKey } from "../../src/protocol/messages.ts";

/** The error key a line is refused with (fails when the line parses). */
function refusal(line: string): ErrorKey {
  try {
    const parsed = parseCommand(line);
    assert.fail(`expected ${JSON.stringify(line)} to be refused, got ${JSON.stringify(parsed, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
  } catch (error) {
    if (!(error instanceof BankError)) throw error;
    return error.key;
  }
}

/** The BankError a line is refused with. */
function refusalError(line: string): BankError {
  try {
    parseCommand(line);
  } catch (error) {
    if (error instanceof BankError) return error;
    throw error;
  }
  assert.fail(`expected ${JSON.stringify(line)} to be refused`);
}

describe("parseCommand: every command", () => {
  it("parses the commands without fields", () => {
    for (const code of ["BC", "AC", "BA", "BN"] as const) assert.deepEqual(parseCommand(code), { code });
  });

  it("parses AD and AW with account, bank and amount", () => {
    assert.deepEqual(parseCommand("AD 10001/10.0.0.1 3000"), { code: "AD", account: 10001, bank: "10.0.0.1", amount: 3000n });
    assert.deepEqual(parseCommand("AW 99999/255.255.255.255 0"), {
      code: "AW",
      account: 99999,
      bank: "255.255.255.255",
      amount: 0n,
    });
  });

  it("parses AB and AR with account and bank", () => {
    assert.deepEqual(parseCommand("AB 10000/0.0.0.0"), { code: "AB", account: 10000, bank: "0.0.0.0" });
    assert.deepEqual(parseCommand("AR 12345/127.0.0.1"), { code: "AR", account: 12345, bank: "127.0.0.1" });
  });

  it("parses RP with its target", () => {
    assert.deepEqual(parseCommand("RP 1000000"), { code: "RP", amount: 1000000n });
  });

  it("matches the code case-insensitively and replies with it in upper case", () => {
    assert.deepEqual(parseCommand("bc"), { code: "BC" });
    assert.deepEqual(parseCommand("Ba"), { code: "BA" });
    assert.deepEqual(parseCommand("aD 10001/10.0.0.1 5"), { code: "AD", account: 10001, bank: "10.0.0.1", amount: 5n });
    assert.deepEqual(parseCommand("rp 7"), { code: "RP", amount: 7n });
  });

  it("trims leading and trailing whitespace and accepts tabs and runs of spaces between fields", () => {
    assert.deepEqual(parseCommand("  \tAD \t  10001/10.0.0.1\t\t42   \t"), {
      code: "AD",
      account: 10001,
      bank: "10.0.0.1",
      amount: 42n,
    });
    assert.deepEqual(parseCommand("\tBN  "), { code: "BN" });
  });

  it("separates fields by any Unicode space, as a terminal shows them", () => {
    for (const space of ["\u00a0", "\u2009", "\u3000", "\u202f", "\u00a0 \u2003"]) {
      assert.deepEqual(parseCommand(`AB${space}10001/10.0.0.1${space}`), { code: "AB", account: 10001, bank: "10.0.0.1" }, JSON.stringify(space));
    }
    // A number with a no-break space inside is two fields, not a malformed number.
    assert.equal(refusal("AD 10001/10.0.0.1 1\u00a0000"), "usage");
  });

  it("returns undefined for a blank line, which gets no reply", () => {
    assert.equal(parseCommand(""), undefined);
    assert.equal(parseCommand("   \t "), undefined);
  });

  it("parses the largest amount, 9223372036854775807, exactly", () => {
    assert.deepEqual(parseCommand("AD 10000/1.2.3.4 9223372036854775807"), {
      code: "AD",
      account: 10000,
      bank: "1.2.3.4",
      amount: 9223372036854775807n,
    });
  });

  it("parses 0 as a number", () => {
    assert.deepEqual(parseCommand("RP 0"), { code: "RP", amount: 0n });
  });
});

describe("parseCommand: refusals", () => {
  it("refuses an unknown code, naming it", () => {
    assert.equal(refusal("XX"), "unknown_command");
    assert.equal(refusal("HELLO world"), "unknown_command");
    assert.equal(refusal("A"), "unknown_command");
    assert.equal(refusal("ADD 10000/1.2.3.4 5"), "unknown_command");
    assert.equal(refusalError("zz 1 2").params.code, "zz");
  });

  it("refuses extra fields with the usage of the command", () => {
    for (const line of ["BC x", "AC 10000/1.2.3.4", "BA 1", "BN 1", "AD 10000/1.2.3.4 5 6", "AB 10000/1.2.3.4 5", "AR 10000/1.2.3.4 x", "RP 1 2"]) {
      assert.equal(refusal(line), "usage", line);
    }
  });

  it("refuses missing fields with the usage of the command", () => {
    for (const line of ["AD", "AD 10000/1.2.3.4", "AW 10000/1.2.3.4", "AB", "AR", "RP", "aw"]) {
      assert.equal(refusal(line), "usage", line);
    }
  });

  it("puts the expected form into the usage error", () => {
    const error = refusalError("ad 10000/1.2.3.4");
    assert.equal(error.params.code, "AD");
    assert.equal(error.params.usage, "AD <account>/<ip> <number>");
    assert.equal(usage("AB"), "AB <account>/<ip>");
    assert.equal(usage("RP"), "RP <number>");
    assert.equal(usage("BC"), "BC");
  });

  it("refuses a malformed account", () => {
    for (const field of ["10000", "abcde/1.2.3.4", "1000a/1.2.3.4", "10000/1.2.3.4/5", "/1.2.3.4", "+1000/1.2.3.4", "١٠٠٠٠/1.2.3.4"]) {
      assert.equal(refusal(`AB ${field}`), "malformed_account", field);
    }
  });

  it("refuses any other run of digits as out of range, whatever its length", () => {
    for (const account of ["09999", "00000", "01234", "9999", "1", "123456", "100000", "9".repeat(30)]) {
      assert.equal(refusal(`AB ${account}/1.2.3.4`), "account_out_of_range", account);
    }
    assert.equal(refusal("AD 00000/1.2.3.4 5"), "account_out_of_range");
    assert.equal(refusalError("AB 09999/1.2.3.4").params.text, "09999");
    assert.equal(refusalError("AB 9999/1.2.3.4").params.text, "9999");
  });

  it("accepts the bounds of the account range", () => {
    assert.equal((parseCommand("AB 10000/1.2.3.4") as { account: number }).account, 10000);
    assert.equal((parseCommand("AB 99999/1.2.3.4") as { account: number }).account, 99999);
  });

  it("refuses a malformed ip", () => {
    const bad = [
      "127.0.0.01", // leading zero
      "01.2.3.4",
      "256.0.0.1", // octet > 255
      "1.2.3.300",
      "1.2.3", // three octets
      "1.2.3.4.5",
      "1.2.3.",
      "",
      "a.b.c.d",
      "1.2.3.-4",
      "1.2.3.+4",
      "1..3.4",
      "1.2.3.4x",
    ];
    for (const ip of bad) assert.equal(refusal(`AB 10000/${ip}`), "malformed_ip", ip);
  });

  it("refuses a malformed number", () => {
    const bad = ["-5", "+5", "5.0", "1e3", "05", "00", "1,000", "1_000", "0x10", "five", "٥"];
    for (const n of bad) {
      assert.equal(refusal(`AD 10000/1.2.3.4 ${n}`), "malformed_number", n);
      assert.equal(refusal(`RP ${n}`), "malformed_number", n);
    }
  });

  it("refuses a number above 9223372036854775807 as out of range", () => {
    assert.equal(refusal("AD 10000/1.2.3.4 9223372036854775808"), "number_out_of_range");
    assert.equal(refusal("AW 10000/1.2.3.4 99999999999999999999"), "number_out_of_range");
    assert.equal(refusal("RP 123456789012345678901234567890"), "number_out_of_range");
    assert.equal(refusal(`RP 9${"0".repeat(400)}`), "number_out_of_range");
  });

  it("checks the account before the number", () => {
    assert.equal(refusal("AD 1x/1.2.3.4 -1"), "malformed_account");
    assert.equal(refusal("AD 10000/1.2.3 -1"), "malformed_ip");
  });

  it("clips long echoed text and strips control bytes from it", () => {
    const error = refusalError(`AB ${"9".repeat(5000)}/1.2.3.4`);
    assert.ok((error.params.text ?? "").length <= 50, `echoed ${error.params.text?.length} characters`);
    const control = refusalError("X\u0007Y");
    assert.ok(!/[\x00-\x1f\x7f]/.test(control.params.code ?? ""), JSON.stringify(control.params));
  });
});

describe("formatCommand", () => {
  it("writes the canonical form: upper case, single spaces", () => {
    assert.equal(formatCommand(parseCommand("ad\t10001/10.0.0.1   3000 ")!), "AD 10001/10.0.0.1 3000");
    assert.equal(formatCommand(parseCommand(" aw 10001/10.0.0.1 1")!), "AW 10001/10.0.0.1 1");
    assert.equal(formatCommand(parseCommand("ab 10001/10.0.0.1")!), "AB 10001/10.0.0.1");
    assert.equal(formatCommand(parseCommand("Ar 10001/10.0.0.1")!), "AR 10001/10.0.0.1");
    assert.equal(formatCommand(parseCommand("rp  9223372036854775807")!), "RP 9223372036854775807");
    for (const code of ["bc", "ac", "ba", "bn"]) assert.equal(formatCommand(parseCommand(code)!), code.toUpperCase());
  });

  it("round-trips through parseCommand", () => {
    const commands: Command[] = [
      { code: "BC" },
      parseCommand("AD 99999/192.168.1.254 9223372036854775807")!,
      parseCommand("AB 10000/0.0.0.0")!,
      parseCommand("RP 0")!,
    ];
    for (const command of commands) assert.deepEqual(parseCommand(formatCommand(command)), command);
  });
});
