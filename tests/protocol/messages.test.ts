/** messages.ts: an English and a Czech text for every error, and the RP lines as PROTOCOL.md shows them. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BankError, errorLine, type ErrorKey, type Language, planLine, unreachableLine } from "../../src/protocol/messages.ts";

/** Every error key; `satisfies` makes the type checker flag a key added to ErrorKey but missing here. */
const KEYS = Object.keys({
  unknown_command: true,
  usage: true,
  malformed_account: true,
  account_out_of_range: true,
  malformed_ip: true,
  malformed_number: true,
  number_out_of_range: true,
  no_such_account: true,
  insufficient_funds: true,
  balance_overflow: true,
  account_not_empty: true,
  no_free_accounts: true,
  bank_unreachable: true,
  forward_outcome_unknown: true,
  forward_no_answer: true,
  idle_timeout: true,
  store_failed: true,
  line_too_long: true,
  invalid_utf8: true,
  too_many_connections: true,
  scan_failed: true,
  internal_error: true,
} satisfies Record<ErrorKey, true>) as ErrorKey[];

/** Values for every placeholder a message may use. */
const PARAMS = {
  code: "XY",
  usage: "AD <account>/<ip> <number>",
  text: "bad-text",
  account: "12345",
  ip: "10.9.8.7",
  seconds: "60",
};

const LANGUAGES: Language[] = ["en", "cs"];

describe("errorLine", () => {
  it("gives every key a text in both languages, starting with `ER ` and filled in", () => {
    for (const language of LANGUAGES) {
      for (const key of KEYS) {
        const line = errorLine(language, new BankError(key, PARAMS));
        assert.match(line, /^ER \S/, `${language} ${key}: ${line}`);
        assert.ok(line.length > 10, `${language} ${key} is too short to say what was wrong: ${line}`);
        assert.doesNotMatch(line, /[\r\n]/, `${language} ${key}`);
        assert.doesNotMatch(line, /\{\w+\}/, `${language} ${key} leaves a placeholder: ${line}`);
        assert.doesNotMatch(line, /undefined/, `${language} ${key}: ${line}`);
      }
    }
  });

  it("gives every key its own message", () => {
    for (const language of LANGUAGES) {
      const seen = new Map<string, ErrorKey>();
      for (const key of KEYS) {
        const line = errorLine(language, new BankError(key, PARAMS));
        assert.equal(seen.get(line), undefined, `${language}: ${key} and ${seen.get(line)} share "${line}"`);
        seen.set(line, key);
      }
    }
  });

  it("speaks Czech with cs: every text differs from the English one", () => {
    for (const key of KEYS) {
      assert.notEqual(errorLine("cs", new BankError(key, PARAMS)), errorLine("en", new BankError(key, PARAMS)), key);
    }
    assert.match(errorLine("cs", new BankError("no_such_account", { account: "10001" })), /Účet 10001 neexistuje/);
  });

  it("names what was wrong", () => {
    const en = (key: ErrorKey, params: Record<string, string>) => errorLine("en", new BankError(key, params));
    assert.match(en("unknown_command", { code: "QQ" }), /QQ/);
    assert.equal(en("usage", { code: "AD", usage: "AD <account>/<ip> <number>" }), "ER AD expects: AD <account>/<ip> <number>");
    assert.match(en("malformed_account", { text: "1/2" }), /1\/2/);
    assert.match(en("account_out_of_range", { text: "09999" }), /09999/);
    assert.match(en("malformed_ip", { text: "1.2.3" }), /1\.2\.3/);
    assert.match(en("malformed_number", { text: "-5" }), /-5/);
    assert.match(en("number_out_of_range", { text: "9223372036854775808" }), /9223372036854775808/);
    assert.match(en("no_such_account", { account: "10042" }), /10042/);
    assert.match(en("insufficient_funds", { account: "10042" }), /10042/);
    assert.match(en("balance_overflow", { account: "10042" }), /10042/);
    assert.match(en("account_not_empty", { account: "10042" }), /10042/);
    assert.match(en("bank_unreachable", { ip: "10.0.0.77" }), /10\.0\.0\.77/);
  });

  it("tells a forward that never reached the bank from one whose outcome is unknown", () => {
    const en = (key: ErrorKey) => errorLine("en", new BankError(key, { ip: "10.0.0.77", account: "10042" }));
    assert.match(en("bank_unreachable"), /cannot be reached; nothing was sent/);
    assert.doesNotMatch(en("forward_outcome_unknown"), /cannot be reached/);
    assert.match(en("forward_outcome_unknown"), /may or may not have been made there\. Check with AB 10042\/10\.0\.0\.77/);
    assert.match(en("forward_no_answer"), /got the request but did not answer in time\.$/);
  });

  it("writes usage placeholders in Czech for cs", () => {
    const usage = new BankError("usage", { code: "AD", usage: "AD <account>/<ip> <number>" });
    assert.equal(errorLine("cs", usage), "ER AD očekává: AD <účet>/<ip> <číslo>");
    assert.equal(errorLine("en", usage), "ER AD expects: AD <account>/<ip> <number>");
  });

  it("does not expand placeholders found inside substituted text", () => {
    assert.match(errorLine("en", new BankError("unknown_command", { code: "{usage}$&" })), /\{usage\}\$&/);
  });
});

describe("planLine and unreachableLine", () => {
  it("formats a plan as the PROTOCOL.md example (en)", () => {
    assert.equal(
      planLine("en", { target: 1000000n, codes: ["10.1.2.3", "10.1.2.85"], amount: 1020000n, clients: 21n }),
      "RP To reach 1000000, rob banks 10.1.2.3 and 10.1.2.85: 1020000 taken, 21 clients hurt.",
    );
  });

  it("formats a plan as the PROTOCOL.md example (cs)", () => {
    assert.equal(
      planLine("cs", { target: 1000000n, codes: ["10.1.2.3", "10.1.2.85"], amount: 1020000n, clients: 21n }),
      "RP K dosažení 1000000 je třeba vyloupit banky 10.1.2.3 a 10.1.2.85 (získáte 1020000) a bude poškozeno jen 21 klientů.",
    );
  });

  it("names every bank of a larger plan, and a single bank alone", () => {
    const three = planLine("en", { target: 5n, codes: ["10.0.0.1", "10.0.0.2", "10.0.0.3"], amount: 9n, clients: 3n });
    assert.equal(three, "RP To reach 5, rob banks 10.0.0.1, 10.0.0.2 and 10.0.0.3: 9 taken, 3 clients hurt.");
    const one = planLine("en", { target: 5n, codes: ["10.0.0.1"], amount: 9n, clients: 1n });
    assert.match(one, /^RP To reach 5, rob bank 10\.0\.0\.1: 9 taken/);
    assert.match(planLine("cs", { target: 5n, codes: ["10.0.0.1", "10.0.0.2", "10.0.0.3"], amount: 9n, clients: 3n }), /10\.0\.0\.1, 10\.0\.0\.2 a 10\.0\.0\.3/);
  });

  it("says client or clients, and uses the three Czech plural forms", () => {
    const line = (language: Language, clients: bigint) =>
      planLine(language, { target: 5n, codes: ["10.0.0.1"], amount: 9n, clients });
    assert.match(line("en", 1n), /: 9 taken, 1 client hurt\.$/);
    assert.match(line("en", 2n), /: 9 taken, 2 clients hurt\.$/);
    assert.match(line("cs", 1n), /a bude poškozen jen 1 klient\.$/);
    assert.match(line("cs", 3n), /a budou poškozeni jen 3 klienti\.$/);
    assert.match(line("cs", 5n), /a bude poškozeno jen 5 klientů\.$/);
    assert.match(unreachableLine("en", 10n, 9n, 1n), /holds only 9 \(1 client\)\.$/);
  });

  it("prints amounts beyond 2^63-1 exactly", () => {
    const line = planLine("en", { target: 1n, codes: ["10.0.0.1"], amount: 18446744073709551614n, clients: 2n });
    assert.match(line, / 18446744073709551614 taken/);
  });

  it("says how many banks were left out of the plan, and nothing when none were", () => {
    const plan = { target: 5n, codes: ["10.0.0.1"], amount: 9n, clients: 1n };
    assert.match(planLine("en", plan, 2), /1 client hurt\. 2 banks left out \(no valid answer to BC, BA or BN\)\.$/);
    assert.match(planLine("en", plan, 1), /hurt\. 1 bank left out/);
    assert.match(planLine("cs", plan, 3), /Vynecháno bank: 3/);
    assert.match(unreachableLine("en", 10n, 9n, 1n, 4), /\(1 client\)\. 4 banks left out/);
    assert.doesNotMatch(planLine("en", plan, 0), /left out/);
  });

  it("formats an unreachable target as the PROTOCOL.md example", () => {
    assert.equal(
      unreachableLine("en", 5000000n, 2088n, 6n),
      "RP 5000000 cannot be reached: the whole network holds only 2088 (6 clients).",
    );
    const cs = unreachableLine("cs", 5000000n, 2088n, 6n);
    assert.match(cs, /^RP /);
    assert.match(cs, /5000000/);
    assert.match(cs, /2088/);
    assert.notEqual(cs, unreachableLine("en", 5000000n, 2088n, 6n));
  });
});
