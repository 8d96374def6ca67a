/**
 * Plan time in each packaging: `bank plan --json` against 254 fake banks on 127.0.8.1–254 (one network of
 * each class of bench/plan_bench.ts, target 50 %), run by node dist/bank.mjs, dist/bank, Deno and, with Wine
 * installed, dist/bank.exe. Prints the `plan_ms` each reports (it includes starting the planner's thread)
 * and whether the plan was proven. Run: `npm run build && unshare -n bash -c 'ip link set lo up && node
 * --import tsx bench/plan_packagings.ts'`. Wine: the prefix .wine/ as `npm run test:e2e:wine` sets it up;
 * Wine's server owns the sockets, so none may run elsewhere (it is stopped at the end).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network, NETWORK_CLASSES } from "../tests/helpers/networks.ts";
import { bankReplies, type FakePeer, startFakePeer } from "../tests/helpers/fake_peer.ts";

const SUBNET = "127.0.8";
const SEED = 7919 * 3 + 50;
const MAX_AMOUNT = 2n ** 63n - 1n;

const packagings: [string, string, string[]][] = [
  ["node dist/bank.mjs", process.execPath, ["dist/bank.mjs"]],
  ["dist/bank", "dist/bank", []],
  ["deno run -A dist/bank.mjs", "node_modules/.bin/deno", ["run", "-A", "dist/bank.mjs"]],
];
if (spawnSync("wine", ["--version"]).status === 0) {
  process.env.WINEPREFIX ??= join(process.cwd(), ".wine");
  process.env.WINEDEBUG = "-all";
  packagings.push(["wine dist/bank.exe", "wine", ["dist/bank.exe"]]);
}

const dir = mkdtempSync(join(tmpdir(), "bank-plan-packagings-"));
const config = join(dir, "config.json");
// our own code is outside the fake network, so every one of its 254 hosts is a bank to plan over
writeFileSync(config, JSON.stringify({ host: `${SUBNET}.255`, port: 65530, scan_time_out: 1, timeout: 10, data: "bank.db", log: "bank.log" }));
console.log("plan_ms of `bank plan --json` (254 banks, target 50 % or 2^63 − 1; includes starting the planner's thread)");
console.log(`${"class".padEnd(30)}${packagings.map(([name]) => name.padStart(28)).join("")}`);
try {
  for (const kind of Object.keys(NETWORK_CLASSES)) {
    const banks = network(kind, SEED);
    // an amount is at most 2^63 − 1, which the near-2^63 class passes long before half its money
    const half = banks.reduce((sum, b) => sum + b.amount, 0n) / 2n;
    const target = half < MAX_AMOUNT ? half : MAX_AMOUNT;
    const peers: FakePeer[] = await Promise.all(
      banks.map((b, i) => {
        const code = `${SUBNET}.${i + 1}`;
        return startFakePeer({ host: code, port: 65525, respond: bankReplies({ code, amount: b.amount, clients: b.clients }) });
      }),
    );
    const cells: string[] = [];
    for (const [, command, args] of packagings) {
      const run = spawnSync(command, [...args, "plan", "--json", "--config", config, "--subnet", `${SUBNET}.0/24`, String(target)], {
        encoding: "utf8",
        cwd: process.cwd(),
      });
      try {
        const plan = JSON.parse(run.stdout) as { plan_ms: number; exact: boolean };
        cells.push(`${plan.plan_ms} ms ${plan.exact ? "proven" : "NOT proven"}`);
      } catch {
        cells.push(`failed (exit ${run.status})`);
      }
    }
    console.log(`${kind.padEnd(30)}${cells.map((c) => c.padStart(28)).join("")}`);
    await Promise.all(peers.map((p) => p.close()));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (packagings.some(([, command]) => command === "wine")) spawnSync("wineserver", ["-k"]);
}
