/**
 * `npm run build` while dist/bank from the same checkout runs (it used to fail with ETXTBSY): it succeeds, the
 * running bank keeps serving, dist/SHA256SUMS matches the artifacts, and no temporary build files are left.
 * Address: 127.0.0.15:65530.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { BankProcess, bankCommand } from "../helpers/bank_process.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");
let bank: BankProcess | undefined;
after(async () => {
  await bank?.stop("SIGKILL");
  if (bank) rmSync(bank.dir, { recursive: true, force: true });
});

test("the build succeeds while dist/bank runs, leaves no temporary files, and lists the right checksums", async () => {
  bank = await new BankProcess({ host: "127.0.0.15", port: 65530 }, undefined, bankCommand("binary")).start();
  const build = spawnSync("node", ["scripts/build.mjs"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(build.status, 0, build.stderr);
  for (const name of ["bank.mjs", "bank", "bank.exe"]) assert.match(build.stdout, new RegExp(`dist/${name.replace(".", "\\.")} +[0-9.]+ MB`));
  assert.deepEqual(readdirSync(join(ROOT, "dist")).filter((f) => f.startsWith(".build-")), [], "temporary build folders left in dist/");
  const sums = readFileSync(join(ROOT, "dist/SHA256SUMS"), "utf8").trim().split("\n").map((l) => l.split("  "));
  assert.deepEqual(sums.map(([, name]) => name), ["bank.mjs", "bank", "bank.exe"]);
  for (const [sum, name] of sums) {
    assert.equal(createHash("sha256").update(readFileSync(join(ROOT, "dist", name!))).digest("hex"), sum, name);
  }
  const c = await bank.client();
  assert.equal(await c.request("BC"), "BC 127.0.0.15", "the running bank keeps serving");
  c.close();
});
