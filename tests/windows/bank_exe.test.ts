/**
 * dist/bank.exe under Wine, as a student meets it on a school PC: a double-click start beside config.json,
 * Windows paths, every command, forwarding to and from a Linux bank, scan and plan, Ctrl+C, kill and restart,
 * the data lock, a damaged file refused. Run by `npm run test:e2e:wine` (BANK_RUNTIME=wine also runs
 * tests/e2e/server.test.ts's command suites against the exe). Addresses: 127.0.21.0/24, ports 65531–65533.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BankClient, BankProcess, bankCommand, bankEnv, runBank } from "../helpers/bank_process.ts";
import { expectReply, fund, NETWORK_CONFIG } from "../helpers/bank_network.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");
const WINE = bankCommand("wine");
const LINUX = bankCommand("node");
// A /29, not a /24: every probe under Wine costs milliseconds, and the banks are on .1 and .2.
const SUBNET = "127.0.21.0/29";
const WIN_HOST = "127.0.21.1";
const LINUX_HOST = "127.0.21.2";

/** A Linux path as the Windows program sees it: Wine maps / to drive Z:. */
const windowsPath = (path: string) => `Z:${path.replaceAll("/", "\\")}`;
/** Wine's sockets are slower than Linux's (a /24 scan takes seconds): timeouts a loaded CI machine keeps. */
const WINE_NETWORK = { ...NETWORK_CONFIG, timeout: 3, scan_time_out: 1, scan_subnet: SUBNET };

const dirs: string[] = [];
const running: BankProcess[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bank-win-"));
  dirs.push(dir);
  return dir;
}
async function start(bank: BankProcess, ...args: Parameters<BankProcess["start"]>): Promise<BankProcess> {
  running.push(bank);
  dirs.push(bank.dir);
  return await bank.start(...args);
}
after(async () => {
  for (const bank of running) await bank.stop("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The student's copy of bank.exe in its own folder: a hard link when it can be, not to copy 74 MB. */
function placeExe(folder: string): void {
  try {
    linkSync(join(ROOT, "dist/bank.exe"), join(folder, "bank.exe"));
  } catch {
    copyFileSync(join(ROOT, "dist/bank.exe"), join(folder, "bank.exe"));
  }
}

async function openAccount(c: BankClient, host: string): Promise<string> {
  return (await expectReply(c, "AC", new RegExp(`^AC [0-9]{5}/${host.replaceAll(".", "\\.")}$`))).slice(3);
}

describe("bank.exe started like a Windows program", () => {
  it("with no arguments (a double-click) serves with the config.json beside it; data and log land beside it", async () => {
    const folder = tempDir();
    placeExe(folder);
    writeFileSync(join(folder, "config.json"), JSON.stringify({ host: WIN_HOST, port: 65531 }));
    const elsewhere = tempDir();
    const bank = await start(new BankProcess({ host: WIN_HOST, port: 65531 }, tempDir(), { command: "wine", args: [join(folder, "bank.exe")] }), [], {
      bare: true,
      cwd: elsewhere,
    });
    const c = await bank.client();
    await expectReply(c, "BC", `BC ${WIN_HOST}`);
    await openAccount(c, WIN_HOST);
    c.close();
    assert.equal(await bank.stop("SIGINT"), 0, bank.output);
    assert.ok(existsSync(join(folder, "data/bank.db")), "the data should be beside bank.exe");
    assert.ok(existsSync(join(folder, "logs/bank.log")), "the log should be beside bank.exe");
    assert.ok(!existsSync(join(elsewhere, "data")), "nothing in the folder it was started from");
  });

  it("with no arguments and a bad config.json beside it, names the file and exits 2", async () => {
    const folder = tempDir();
    placeExe(folder);
    writeFileSync(join(folder, "config.json"), "{ host: 127.0.21.1 }");
    const { code, stderr } = await runBank([], { cwd: tempDir(), command: { command: "wine", args: [join(folder, "bank.exe")] } });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /config\.json is not valid JSON/);
  });

  it("after a fatal error in a console window (a double-click), keeps it open until Enter", async () => {
    const folder = tempDir();
    placeExe(folder);
    writeFileSync(join(folder, "config.json"), "{ host: 127.0.21.1 }");
    // script(1) gives the exe a terminal, as Windows gives a double-clicked program a console window; without
    // ICRNL the Enter key arrives as the CR a Windows console expects.
    const child = spawn("script", ["-qec", `stty -icrnl; wine '${join(folder, "bank.exe")}'`, "/dev/null"], {
      cwd: folder,
      env: bankEnv,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    child.stdout.on("data", (d) => (screen += d));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    for (let i = 0; !screen.includes("Press Enter"); i++) {
      assert.ok(i < 600, `no prompt: ${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(screen, /config\.json is not valid JSON/);
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r("waiting"), 1000))]);
    assert.equal(early, "waiting", "the window must stay open until Enter");
    child.stdin.write("\r");
    assert.equal(await exited, 2, screen);
  });

  it("takes drive letters, backslashes and spaces in config and flags; Ctrl+C stops it cleanly", async () => {
    const dir = tempDir();
    const data = join(dir, "my data", "bank.db");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ host: WIN_HOST, port: 65531, data: windowsPath(data) }));
    const log = join(dir, "my logs", "bank.log");
    const args = ["serve", "--config", windowsPath(join(dir, "config.json")), "--log", windowsPath(log)];
    const bank = await start(new BankProcess({ host: WIN_HOST, port: 65531 }, tempDir(), WINE), args, { bare: true });
    const c = await bank.client();
    const account = await openAccount(c, WIN_HOST);
    await expectReply(c, `AD ${account} 5`, "AD");
    c.close();
    assert.equal(await bank.stop("SIGINT"), 0, bank.output);
    assert.match(bank.output, /snapshot written/);
    assert.ok(!existsSync(`${data}.lock`), "Ctrl+C releases the lock");
    assert.ok(existsSync(data) && existsSync(`${data}.journal`), "data where the config's Windows path says");
    assert.match(readFileSync(log, "utf8"), /"event"/, "log where the --log flag's Windows path says");
    const again = await start(new BankProcess({ host: WIN_HOST, port: 65531 }, tempDir(), WINE), args, { bare: true });
    const c2 = await again.client();
    await expectReply(c2, `AB ${account}`, "AB 5");
    c2.close();
    assert.equal(await again.stop("SIGINT"), 0, again.output);
  });
});

describe("bank.exe beside a Linux bank", () => {
  let win: BankProcess;
  let linux: BankProcess;
  before(async () => {
    [win, linux] = await Promise.all([
      start(new BankProcess({ ...WINE_NETWORK, host: WIN_HOST, port: 65531 }, undefined, WINE)),
      start(new BankProcess({ ...WINE_NETWORK, host: LINUX_HOST, port: 65533 }, undefined, LINUX)),
    ]);
  });

  it("answers every command", async () => {
    const c = await win.client();
    await expectReply(c, "BC", `BC ${WIN_HOST}`);
    const a = await openAccount(c, WIN_HOST);
    const b = await openAccount(c, WIN_HOST);
    await expectReply(c, `AD ${a} 9223372036854775807`, "AD");
    await expectReply(c, `AW ${a} 7`, "AW");
    await expectReply(c, `AB ${a}`, "AB 9223372036854775800");
    await expectReply(c, `AR ${b}`, "AR");
    await expectReply(c, `AW ${a} 9223372036854775801`, /^ER \S/);
    await expectReply(c, "BA", "BA 9223372036854775800");
    await expectReply(c, "BN", "BN 1");
    await expectReply(c, "XY", /^ER \S/);
    c.close();
  });

  it("forwards to the Linux bank and serves the Linux bank's forwards", async () => {
    const [onLinux] = await fund(linux, { amount: 40n, clients: 1 });
    const cw = await win.client();
    const onWindows = await openAccount(cw, WIN_HOST);
    await expectReply(cw, `AD ${onLinux} 2`, "AD");
    await expectReply(cw, `AB ${onLinux}`, "AB 42");
    const cl = await linux.client();
    await expectReply(cl, `AD ${onWindows} 3`, "AD");
    await expectReply(cl, `AB ${onWindows}`, "AB 3");
    await expectReply(cw, `AB ${onWindows}`, "AB 3");
    cw.close();
    cl.close();
  });

  it("plans a robbery over both banks (RP), and scans and plans from the command line", async () => {
    const c = await win.client();
    c.write("RP 40\r\n");
    assert.match((await c.readLine(30_000))!, /^RP To reach 40, rob bank 127\.0\.21\.[12]: /);
    c.close();
    const config = windowsPath(join(win.dir, "config.json"));
    const scan = await runBank(["scan", "--json", "--config", config, "--subnet", SUBNET], { command: WINE, cwd: win.dir });
    assert.equal(scan.code, 0, scan.stderr);
    const codes = (JSON.parse(scan.stdout).banks as { code: string }[]).map((b) => b.code).sort();
    assert.deepEqual(codes, [WIN_HOST, LINUX_HOST]);
    const plan = await runBank(["plan", "42", "--json", "--config", config, "--subnet", SUBNET], { command: WINE, cwd: win.dir });
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(JSON.parse(plan.stdout).reachable, true, plan.stdout);
  });

  after(async () => {
    assert.equal(await linux.stop(), 0, linux.output);
    assert.equal(await win.stop("SIGINT"), 0, win.output);
  });
});

describe("bank.exe data on disk", () => {
  it("refuses a second bank on the same data while one runs; after kill -9 the restart replays the journal", async () => {
    const bank = await start(new BankProcess({ host: WIN_HOST, port: 65531 }, undefined, WINE));
    const c = await bank.client();
    const a = await openAccount(c, WIN_HOST);
    await expectReply(c, `AD ${a} 12`, "AD");
    c.close();
    const second = await runBank(["serve", "--config", join(bank.dir, "config.json"), "--port", "65532"], { command: WINE, cwd: bank.dir });
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /bank\.db is in use by another bank/);
    await bank.kill9();
    const again = await start(new BankProcess(bank.config, bank.dir, WINE));
    assert.match(again.output, /1 accounts loaded/);
    const c2 = await again.client();
    await expectReply(c2, `AB ${a}`, "AB 12");
    c2.close();
    assert.equal(await again.stop("SIGINT"), 0, again.output);
  });

  it("refuses to start on a damaged snapshot: exit 1, the file named and left as it was", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "data"));
    const bytes = new Uint8Array(4096).fill(7);
    writeFileSync(join(dir, "data/bank.db"), bytes);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ host: WIN_HOST, port: 65531 }));
    const { code, stderr } = await runBank(["serve", "--config", join(dir, "config.json")], { command: WINE, cwd: dir });
    assert.equal(code, 1, stderr);
    assert.match(stderr, /bank\.db/);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "data/bank.db"))), bytes);
  });
});
