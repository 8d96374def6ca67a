// Runs tests/windows (and any folders given) against dist/bank.exe under Wine: BANK_RUNTIME=wine.
// Wine's prefix is .wine/ in the checkout unless WINEPREFIX says otherwise; a new one is set to report
// Windows 10, or Node refuses to start. Wine's server creates the sockets of every Windows program, so it must
// run in the tests' network namespace: a server left running (from elsewhere) is stopped first and at the end.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const env = { ...process.env, WINEPREFIX: process.env.WINEPREFIX ?? resolve(".wine"), WINEDEBUG: "-all", BANK_RUNTIME: "wine" };
const run = (command, args) => spawnSync(command, args, { env, stdio: ["ignore", "inherit", "inherit"] }).status;

if (!existsSync(`${env.WINEPREFIX}/system.reg`)) {
  process.stderr.write(`creating the Wine prefix ${env.WINEPREFIX} (Windows 10)\n`);
  // Output of wineboot/winecfg is noise about missing 32-bit parts; the exit code tells.
  if (spawnSync("wineboot", ["--init"], { env, stdio: "ignore" }).status !== 0) throw new Error("wineboot --init failed");
  if (spawnSync("winecfg", ["-v", "win10"], { env, stdio: "ignore" }).status !== 0) throw new Error("winecfg -v win10 failed");
}
run("wineserver", ["-k"]);
const roots = process.argv.length > 2 ? process.argv.slice(2) : ["tests/windows"];
const status = run(process.execPath, ["scripts/test.mjs", ...roots]);
run("wineserver", ["-k"]);
process.exit(status ?? 1);
