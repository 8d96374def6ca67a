/**
 * End to end over TCP: four real banks on 127.0.11.2–.5 (each on its own port), forwarding of AD, AW,
 * AB and AR between them, unreachable and silent banks (fake peers on 127.0.11.20–.22), and RP over
 * the whole network. 127.0.11.0/24 belongs to the network e2e files only; they must not run at the
 * same time as each other (every scan sees the whole /24).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type BankClient, type BankProcess } from "../helpers/bank_process.ts";
import { type BankSpec, fund, type LogRecord, logRecords, startBanks, stopBanks, timed, waitForLog } from "../helpers/bank_network.ts";
import { bankReplies, startFakePeer } from "../helpers/fake_peer.ts";

/** Seconds of `timeout` in every bank's config, in ms. */
const TIMEOUT_MS = 1000;
/** What a deadline may overrun by on a loaded machine. */
const MARGIN_MS = 600;

// Totals chosen so that the optimum for 110 (B + C: 6 clients) is neither the greedy choice by amount
// (A first: 13 clients) nor by amount per client (D first, then B, then C: 7 clients).
const A: BankSpec = { host: "127.0.11.2", port: 65525, amount: 100n, clients: 10 };
// B answers in Czech: what A's client gets from B is then visibly B's text, not one A made up.
const B: BankSpec = { host: "127.0.11.3", port: 65527, amount: 60n, clients: 3, config: { language: "cs" } };
const C: BankSpec = { host: "127.0.11.4", port: 65529, amount: 50n, clients: 3 };
const D: BankSpec = { host: "127.0.11.5", port: 65531, amount: 40n, clients: 1 };
const SPECS = [A, B, C, D];
const NETWORK_AMOUNT = 250n;
const NETWORK_CLIENTS = 17n;

let banks: BankProcess[] = [];
let bankA: BankProcess;
let bankB: BankProcess;
let bankD: BankProcess;
/** Accounts of A, as `n/ip`; the first holds all of A's money. */
let accountsA: string[] = [];
const clients: BankClient[] = [];

async function clientOf(bank: BankProcess): Promise<BankClient> {
  const client = await bank.client();
  clients.push(client);
  return client;
}

/** Opens a fresh account directly on `bank` with `amount` on it; returns it as `n/ip`. */
async function openAccount(bank: BankProcess, amount: bigint): Promise<string> {
  const client = await clientOf(bank);
  const reply = await client.request("AC");
  assert.match(reply, /^AC [0-9]{5}\/127\.0\.11\.[0-9]+$/);
  const account = reply.slice(3);
  if (amount > 0n) assert.equal(await client.request(`AD ${account} ${amount}`), "AD");
  return account;
}

/** The balance reply of `account` asked directly of its own bank. */
async function balanceAt(bank: BankProcess, account: string): Promise<string> {
  return (await clientOf(bank)).request(`AB ${account}`);
}

const isForward = (bank: string, line: string) => (r: LogRecord) => r.event === "forward" && r.bank === bank && r.line === line;
const isCommand = (request: string) => (r: LogRecord) => r.event === "command" && r.request === request;

before(async () => {
  banks = await startBanks(SPECS);
  [bankA, bankB, , bankD] = banks as [BankProcess, BankProcess, BankProcess, BankProcess];
  const funded = await Promise.all(banks.map((bank, i) => fund(bank, SPECS[i]!)));
  accountsA = funded[0]!;
});

after(async () => {
  for (const client of clients) client.close();
  await stopBanks(banks);
});

test("RP gives the optimum over the whole network in the protocol's wording", async () => {
  const a = await clientOf(bankA);
  assert.equal(await a.request("RP 110"), "RP To reach 110, rob banks 127.0.11.3 and 127.0.11.4: 110 taken, 6 clients hurt.");
  // Three banks: "x, y and z".
  assert.equal(
    await a.request("RP 140"),
    "RP To reach 140, rob banks 127.0.11.3, 127.0.11.4 and 127.0.11.5: 150 taken, 7 clients hurt.",
  );
  // B and C both reach 45 with 3 clients: the smaller amount wins. One bank: "bank", singular.
  assert.equal(await a.request("RP 45"), "RP To reach 45, rob bank 127.0.11.4: 50 taken, 3 clients hurt.");
  // The whole network.
  assert.equal(
    await a.request("rp 250"),
    "RP To reach 250, rob banks 127.0.11.2, 127.0.11.3, 127.0.11.4 and 127.0.11.5: 250 taken, 17 clients hurt.",
  );
  // Another bank sees the same network (itself included) and gives the same plan.
  assert.equal(await (await clientOf(bankD)).request("RP 110"), "RP To reach 110, rob banks 127.0.11.3 and 127.0.11.4: 110 taken, 6 clients hurt.");
  // A bank with language "cs" words it in Czech.
  assert.equal(
    await (await clientOf(bankB)).request("RP 110"),
    "RP K dosažení 110 je třeba vyloupit banky 127.0.11.3 a 127.0.11.4 (získáte 110) a bude poškozeno jen 6 klientů.",
  );
});

test("RP above the network's total says it cannot be reached and gives the total", async () => {
  const a = await clientOf(bankA);
  let amount = 0n;
  let count = 0n;
  for (const bank of banks) {
    const client = await clientOf(bank);
    amount += BigInt((await client.request("BA")).slice(3));
    count += BigInt((await client.request("BN")).slice(3));
  }
  assert.deepEqual([amount, count], [NETWORK_AMOUNT, NETWORK_CLIENTS]);
  assert.equal(await a.request("RP 251"), "RP 251 cannot be reached: the whole network holds only 250 (17 clients).");
  assert.equal(
    await a.request("RP 9223372036854775807"),
    "RP 9223372036854775807 cannot be reached: the whole network holds only 250 (17 clients).",
  );
});

test("two RPs sent at once from two clients each get their own correct answer", async () => {
  const [c1, c2, c3] = [await clientOf(bankA), await clientOf(bankA), await clientOf(bankD)];
  const replies = await Promise.all([c1.request("RP 110"), c2.request("RP 251"), c3.request("RP 140")]);
  assert.deepEqual(replies, [
    "RP To reach 110, rob banks 127.0.11.3 and 127.0.11.4: 110 taken, 6 clients hurt.",
    "RP 251 cannot be reached: the whole network holds only 250 (17 clients).",
    "RP To reach 140, rob banks 127.0.11.3, 127.0.11.4 and 127.0.11.5: 150 taken, 7 clients hurt.",
  ]);
  // And both clients stay usable.
  assert.deepEqual(await Promise.all([c1.request("BC"), c2.request("BN")]), ["BC 127.0.11.2", "BN 10"]);
});

test("AD, AW, AB and AR sent to A for an account of B are carried out by B", async () => {
  const account = await openAccount(bankB, 0n);
  const a = await clientOf(bankA);
  // Sent to A sloppily (lower case, tabs, extra spaces): forwarded in canonical form.
  assert.equal(await a.request(`ad\t${account}   500 `), "AD");
  assert.equal(await balanceAt(bankB, account), "AB 500");
  assert.equal(await a.request(`AB ${account}`), "AB 500");
  assert.equal(await a.request(`AW ${account} 200`), "AW");
  assert.equal(await balanceAt(bankB, account), "AB 300");
  assert.equal(await a.request(`AW ${account} 300`), "AW");
  assert.equal(await balanceAt(bankB, account), "AB 0");
  assert.equal(await a.request(`AR ${account}`), "AR");
  // Gone at B: B's own (Czech) refusal.
  assert.match(await balanceAt(bankB, account), /^ER .*neexistuje/);
  // A's own money was not touched.
  assert.equal(await a.request("BA"), "BA 100");
  assert.equal(await a.request("BN"), "BN 10");

  // Logged at both ends: A logs the forward with B's reply, B logs the command it received.
  for (const [line, reply] of [
    [`AD ${account} 500`, "AD"],
    [`AB ${account}`, "AB 500"],
    [`AW ${account} 200`, "AW"],
    [`AW ${account} 300`, "AW"],
    [`AR ${account}`, "AR"],
  ] as const) {
    const forward = await waitForLog(bankA, isForward(B.host, line), `event "forward" of ${line}`);
    assert.equal(forward.reply, reply);
    assert.equal(forward.port, B.port);
    const command = await waitForLog(bankB, isCommand(line), `the command ${line}`);
    assert.equal(command.reply, reply);
  }
});

test("the forwarded command reaches B from A's own address (its bank code)", async () => {
  const account = await openAccount(bankB, 7n);
  const a = await clientOf(bankA);
  // Only records written after this point (the log is flushed every 100 ms): an earlier test may
  // have closed, and so freed, this account number and asked B about it directly.
  await new Promise((r) => setTimeout(r, 300));
  const before = logRecords(bankB).length;
  assert.equal(await a.request(`AB ${account}`), "AB 7");
  let command: LogRecord | undefined;
  for (const deadline = performance.now() + 3000; !command && performance.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 50));
    command = logRecords(bankB).slice(before).find(isCommand(`AB ${account}`));
  }
  assert.ok(command, `B logged no AB ${account} after the forward`);
  // On a host with several addresses the kernel would pick 127.0.0.1 unless the bank binds its own.
  assert.match(String(command.peer), /^127\.0\.11\.2:[0-9]+$/, `B logged the forward as coming from ${String(command.peer)}`);
});

test("B's refusals are relayed to A's client verbatim and change nothing", async () => {
  const account = await openAccount(bankB, 300n);
  const missing = `99999/${B.host}`;
  const a = await clientOf(bankA);
  const b = await clientOf(bankB);
  for (const line of [
    `AW ${account} 301`, // insufficient funds
    `AB ${missing}`, // no such account
    `AD ${missing} 5`,
    `AW ${missing} 5`,
    `AR ${missing}`,
    `AR ${account}`, // still holds money
    `AD ${account} 9223372036854775807`, // would exceed the maximum balance
  ]) {
    const direct = await b.request(line);
    const relayed = await a.request(line);
    assert.match(direct, /^ER /, line);
    assert.equal(relayed, direct, line);
    const forward = await waitForLog(bankA, isForward(B.host, line), `event "forward" of ${line}`);
    assert.equal(forward.reply, direct);
  }
  // The Czech texts prove they are B's: A itself answers in English.
  assert.match(await a.request(`AW ${account} 301`), /^ER Nedostatek prostředků/);
  assert.match(await a.request(`AR ${account}`), /^ER Na účtu .* jsou peníze/);
  assert.equal(await balanceAt(bankB, account), "AB 300");
  assert.equal(await a.request("BA"), "BA 100");
});

test("an address with no bank: ER naming it within the timeout, and A stays usable", async () => {
  const a = await clientOf(bankA);
  const { value: reply, ms } = await timed(a.request("AD 10001/127.0.11.200 5"));
  assert.match(reply, /^ER .*127\.0\.11\.200/);
  assert.ok(ms < TIMEOUT_MS + MARGIN_MS, `ER after ${Math.round(ms)} ms`);
  await waitForLog(bankA, (r) => r.event === "forward_failed" && r.bank === "127.0.11.200", `event "forward_failed"`);
  // The same connection goes on.
  assert.equal(await a.request("BC"), "BC 127.0.11.2");
  assert.equal(await a.request(`AB ${accountsA[0]}`), "AB 100");
  assert.match(await a.request("AB 10001/127.0.11.200"), /^ER .*127\.0\.11\.200/);
});

test("a bank that accepts and never answers: ER in time, A's other clients are served meanwhile", async () => {
  const silent = await startFakePeer({ host: "127.0.11.20", port: 65533, respond: () => null });
  try {
    const hung = await clientOf(bankA);
    const other = await clientOf(bankA);
    const started = performance.now();
    const pending = hung.request("AD 10001/127.0.11.20 5", TIMEOUT_MS + MARGIN_MS + 2000);
    let settled = false;
    void pending.finally(() => (settled = true)).catch(() => {});
    await new Promise((r) => setTimeout(r, 150));
    for (const [line, expected] of [
      ["BC", "BC 127.0.11.2"],
      [`AB ${accountsA[0]}`, "AB 100"],
      ["BA", "BA 100"],
    ] as const) {
      const { value, ms } = await timed(other.request(line));
      assert.equal(value, expected);
      assert.ok(ms < 200, `${line} took ${Math.round(ms)} ms during the hung forward`);
    }
    // A forward to a bank that does answer is not held up either.
    const account = await openAccount(bankB, 42n);
    const { value, ms } = await timed(other.request(`AB ${account}`));
    assert.equal(value, "AB 42");
    assert.ok(ms < 500, `a forward to B took ${Math.round(ms)} ms during the hung forward`);
    assert.equal(settled, false, "the checks above must run while the forward still hangs");

    const reply = await pending;
    const elapsed = performance.now() - started;
    assert.match(reply, /^ER .*127\.0\.11\.20\b/);
    assert.ok(elapsed >= TIMEOUT_MS - 100, `ER after only ${Math.round(elapsed)} ms: did A wait for the silent bank?`);
    assert.ok(elapsed < TIMEOUT_MS + MARGIN_MS, `ER after ${Math.round(elapsed)} ms`);
    assert.equal(await hung.request("BC"), "BC 127.0.11.2");
    // It never answered BC, so it was never sent the deposit.
    assert.ok(silent.received.every((l) => l === "BC\r\n"), JSON.stringify(silent.received));
  } finally {
    await silent.close();
  }
});

test("a bank that answers BC but not the command: ER in time, the deposit is sent once only", async () => {
  const peer = await startFakePeer({ host: "127.0.11.21", port: 65530, respond: (line) => (line === "BC" ? "BC 127.0.11.21" : null) });
  try {
    const a = await clientOf(bankA);
    const other = await clientOf(bankA);
    const pending = timed(a.request("AD 10001/127.0.11.21 5", TIMEOUT_MS + MARGIN_MS + 2000));
    await new Promise((r) => setTimeout(r, 150));
    const { value, ms } = await timed(other.request("BC"));
    assert.equal(value, "BC 127.0.11.2");
    assert.ok(ms < 200, `BC took ${Math.round(ms)} ms during the hung forward`);
    const { value: reply, ms: elapsed } = await pending;
    assert.match(reply, /^ER .*127\.0\.11\.21\b/);
    assert.ok(elapsed >= TIMEOUT_MS - 100 && elapsed < TIMEOUT_MS + MARGIN_MS, `ER after ${Math.round(elapsed)} ms`);
    assert.deepEqual(peer.received.filter((l) => l.startsWith("AD")), ["AD 10001/127.0.11.21 5\r\n"]);
    await waitForLog(bankA, (r) => r.event === "forward_failed" && r.bank === "127.0.11.21", `event "forward_failed"`);
  } finally {
    await peer.close();
  }
});

test("an odd bank's reply that is not ER is relayed unchanged", async () => {
  const respond = bankReplies({ code: "127.0.11.22" });
  const peer = await startFakePeer({
    host: "127.0.11.22",
    port: 65535,
    respond: (line) => (line.startsWith("AB ") ? { writes: ["  Špatný příkaz \r\r\n\n"] } : respond(line)),
    crlfOnly: true,
  });
  try {
    const a = await clientOf(bankA);
    assert.equal(await a.request("ab 10001/127.0.11.22"), "Špatný příkaz");
    assert.deepEqual(peer.received.filter((l) => l.startsWith("AB")), ["AB 10001/127.0.11.22\r\n"]);
  } finally {
    await peer.close();
  }
});

test("the logs are JSON lines with an event per record", () => {
  for (const bank of banks) {
    const records = logRecords(bank);
    assert.ok(records.length > 0, `${bank.host} logged nothing`);
    assert.ok(records.some((r) => r.event === "start"), `${bank.host} logged no start`);
  }
});
