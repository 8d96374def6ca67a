/**
 * End to end, one-shot CLI: `bank scan` and `bank plan` against four real banks on 127.0.11.6–.9 (each on
 * its own port) plus fake peers on 127.0.11.30–.31. 127.0.11.0/24 belongs to the network e2e files only;
 * they must not run at the same time as each other (every scan sees the whole /24).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type BankProcess, runBank, testDir } from "../helpers/bank_process.ts";
import { type BankSpec, fund, NETWORK_CONFIG, startBanks, stopBanks } from "../helpers/bank_network.ts";
import { type FakePeer, startFakePeer } from "../helpers/fake_peer.ts";

const SUBNET = "127.0.11.0/24";

// Amounts above 2^53 (exact only as strings); the optimum for 110… (the 2nd and 3rd bank: 6 clients)
// is neither the greedy choice by amount (13 clients) nor by amount per client (7 clients).
const SPECS: BankSpec[] = [
  { host: "127.0.11.6", port: 65526, amount: 100_000_000_000_000_001n, clients: 10 },
  { host: "127.0.11.7", port: 65528, amount: 60_000_000_000_000_000n, clients: 3 },
  { host: "127.0.11.8", port: 65530, amount: 50_000_000_000_000_000n, clients: 3 },
  { host: "127.0.11.9", port: 65532, amount: 40_000_000_000_000_000n, clients: 1 },
];
const TOTAL = 250_000_000_000_000_001n;
const TARGET = 110_000_000_000_000_000n;

/** A bank row as `scan --json` and `plan --json` print it. */
const row = (s: BankSpec) => ({ code: s.host, port: s.port, amount: String(s.amount), clients: String(s.clients) });

let banks: BankProcess[] = [];
let fakes: FakePeer[] = [];
/** Where the one-shot commands run, with their config.json. */
let dir: string;
let config: string;

/** Runs `bank <args> --config <config> --subnet 127.0.11.0/24` in the temp dir. */
function bank(...args: string[]) {
  return runBank([...args, "--config", config, "--subnet", SUBNET], { cwd: dir, timeoutMs: 20_000 });
}

before(async () => {
  dir = testDir("bank-cli-");
  config = join(dir, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      ...NETWORK_CONFIG,
      host: "127.0.11.1",
      port: 65525,
      scan_subnet: SUBNET,
      data: join(dir, "data/bank.db"),
      log: join(dir, "logs/bank.log"),
    }),
  );
  fakes = await Promise.all([
    // Answers BC (and BN) like a bank, but garbage to BA: left out, and said so on stderr.
    startFakePeer({
      host: "127.0.11.30",
      port: 65534,
      respond: (line) => (line === "BC" ? "BC 127.0.11.30" : line === "BN" ? "BN 3" : "BA lots of money"),
    }),
    // Accepts and never answers, not even BC: it gets `timeout` (a slow bank would answer), then is left out.
    startFakePeer({ host: "127.0.11.31", port: 65535, respond: () => null }),
  ]);
  banks = await startBanks(SPECS);
  await Promise.all(banks.map((b, i) => fund(b, SPECS[i]!)));
});

after(async () => {
  await stopBanks(banks);
  await Promise.all(fakes.map((f) => f.close()));
});

test("bank scan --json finds exactly the running banks with their totals", async () => {
  const { code, stdout, stderr } = await bank("scan", "--json");
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout) as Record<string, unknown>;
  // Largest amount first; amounts and clients as strings, exact beyond 2^53.
  assert.deepEqual(result.banks, SPECS.map(row));
  assert.deepEqual(result.total, { banks: 4, amount: String(TOTAL), clients: "17" });
  const problems = result.problems as { code: string; port: number; reason: string }[];
  assert.deepEqual(problems.map((p) => [p.code, p.port]), [["127.0.11.30", 65534], ["127.0.11.31", 65535]]);
  assert.match(problems[0]!.reason, /BA/);
  assert.match(problems[1]!.reason, /BC: .*did not answer within 1000 ms/);
  assert.match(stderr, /^left out 127\.0\.11\.30:65534: .*BA/m);
  assert.match(stderr, /^left out 127\.0\.11\.31:65535: BC: /m);
});

test("bank scan prints a table with a total line; the odd bank is only on stderr", async () => {
  const { code, stdout, stderr } = await bank("scan");
  assert.equal(code, 0, stderr);
  const lines = stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^BANK CODE\s+PORT\s+AMOUNT\s+CLIENTS$/);
  for (const s of SPECS) {
    const line = lines.find((l) => l.startsWith(`${s.host} `));
    assert.ok(line, `no row for ${s.host}:\n${stdout}`);
    assert.deepEqual(line.trim().split(/\s+/), [s.host, String(s.port), String(s.amount), String(s.clients)]);
  }
  assert.match(lines.at(-1)!, new RegExp(`^total \\(4 banks\\)\\s+${TOTAL}\\s+17$`));
  assert.doesNotMatch(stdout, /127\.0\.11\.3[01]/);
  assert.match(stderr, /left out 127\.0\.11\.30:65534/);
});

test("bank plan <amount> --json gives the optimum and exits 0", async () => {
  const { code, stdout, stderr } = await bank("plan", String(TARGET), "--json");
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), {
    target: String(TARGET),
    reachable: true,
    exact: true,
    banks: [row(SPECS[1]!), row(SPECS[2]!)],
    amount: String(TARGET),
    clients: "6",
  });
});

test("bank plan <amount> prints the plan sentence and the banks to rob", async () => {
  const { code, stdout, stderr } = await bank("plan", String(TARGET));
  assert.equal(code, 0, stderr);
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines[0], `To reach ${TARGET}, rob banks 127.0.11.7 and 127.0.11.8: ${TARGET} taken, 6 clients hurt.`);
  assert.ok(lines.some((l) => l.startsWith("127.0.11.7 ")) && lines.some((l) => l.startsWith("127.0.11.8 ")), stdout);
  assert.ok(!lines.some((l) => /^127\.0\.11\.[69] /.test(l)), stdout);
  assert.match(lines.at(-1)!, new RegExp(`^to rob \\(2 banks\\)\\s+${TARGET}\\s+6$`));
});

test("bank plan for more than the network holds exits 1 with reachable false and the network's total", async () => {
  const target = String(TOTAL + 1n);
  const json = await bank("plan", target, "--json");
  assert.equal(json.code, 1, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { target, reachable: false, exact: true, banks: [], amount: String(TOTAL), clients: "17" });
  const text = await bank("plan", target);
  assert.equal(text.code, 1, text.stderr);
  assert.equal(text.stdout.trim(), `${target} cannot be reached: the whole network holds only ${TOTAL} (17 clients).`);
});

test("bank plan with an amount that is not a number exits 2 with a message", async () => {
  for (const amount of ["abc", "1.5", "9223372036854775808"]) {
    const { code, stdout, stderr } = await bank("plan", amount);
    assert.equal(code, 2, `${amount}: ${stderr}`);
    assert.equal(stdout, "", amount);
    // One clear line naming what was wrong, not a silent exit.
    assert.match(stderr, new RegExp(`^bank: .*'${amount.replace(".", "\\.")}'`), `plan ${amount}: exit 2 but stderr was ${JSON.stringify(stderr)}`);
  }
});
