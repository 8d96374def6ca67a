/**
 * Start-up of each packaging: `--version`, and `serve` on an empty bank until the first BC is answered.
 * Run: `npm run build && node --import tsx bench/startup.ts` (medians of 5; uses 127.0.0.72:65534);
 * `BENCH_BUNDLE=<file.mjs>` times another build instead, on Node and Deno. With Wine
 * installed, also `wine dist/bank.exe` (WINEPREFIX default .wine/, set up by `npm run test:e2e:wine`; run it
 * inside `unshare -n` with no wineserver running elsewhere, since Wine's server owns the sockets).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RUNS = 5;
const HOST = "127.0.0.72";
const PORT = 65534;

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function answersBc(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(PORT, HOST, () => socket.write("BC\r\n"));
    socket.on("data", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

async function serveStart(command: string, args: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "bank-startup-"));
  const started = performance.now();
  const child = spawn(command, [...args, "serve", "--host", HOST, "--port", String(PORT), "--data", join(dir, "bank.db"), "--log", join(dir, "bank.log")], {
    stdio: "ignore",
  });
  while (!(await answersBc())) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - started;
  const exited = new Promise((r) => child.on("exit", r));
  // Windows has no SIGTERM; Wine turns SIGINT into Ctrl+C.
  child.kill(command === "wine" ? "SIGINT" : "SIGTERM");
  await exited;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

/** BENCH_BUNDLE: another build of dist/bank.mjs (say, an earlier commit's), timed on Node and Deno only. */
const other = process.env.BENCH_BUNDLE;
const packagings: [string, string, string[]][] = other === undefined
  ? [
    ["node dist/bank.mjs", process.execPath, ["dist/bank.mjs"]],
    ["dist/bank (single executable)", "dist/bank", []],
    ["deno run -A dist/bank.mjs", "node_modules/.bin/deno", ["run", "-A", "dist/bank.mjs"]],
  ]
  : [
    [`node ${other}`, process.execPath, [other]],
    [`deno run -A ${other}`, "node_modules/.bin/deno", ["run", "-A", other]],
  ];
if (other === undefined && spawnSync("wine", ["--version"]).status === 0) {
  process.env.WINEPREFIX ??= join(process.cwd(), ".wine");
  process.env.WINEDEBUG = "-all";
  packagings.push(["wine dist/bank.exe", "wine", ["dist/bank.exe"]]);
}
console.log(`dist/bank: ${(statSync("dist/bank").size / 1e6).toFixed(1)} MB; dist/bank.mjs: ${(statSync("dist/bank.mjs").size / 1e6).toFixed(2)} MB`);
for (const [name, command, args] of packagings) {
  const version: number[] = [];
  const serve: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    spawnSync(command, [...args, "--version"]);
    version.push(performance.now() - t);
    serve.push(await serveStart(command, args));
  }
  console.log(`${name.padEnd(32)} --version ${Math.round(median(version))} ms, serve to first BC ${Math.round(median(serve))} ms`);
}
