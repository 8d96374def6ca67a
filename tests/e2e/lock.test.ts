/**
 * The built bank restarted at once after kill -9 while the killed process is still a zombie (its parent has
 * not reaped it): the restart is not refused and has every acknowledged deposit. Address: 127.0.0.14:65530.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { rmSync } from "node:fs";
import { BankProcess, bankCommand, bankEnv } from "../helpers/bank_process.ts";
import { expectReply } from "../helpers/bank_network.ts";
import { type UnreapedChild, unreapedChild } from "../helpers/processes.ts";

const HOST = "127.0.0.14";
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test("a restart right after kill -9 is not refused while the dead bank is a zombie", async () => {
  const bank = new BankProcess({ host: HOST, port: 65530 });
  cleanups.push(() => rmSync(bank.dir, { recursive: true, force: true }));
  const { command, args } = bankCommand();
  const first: UnreapedChild = await unreapedChild([command, ...args, "serve", "--config", join(bank.dir, "config.json")], {
    cwd: bank.dir,
    env: bankEnv,
  });
  cleanups.push(() => first.end());
  for (let i = 0; !first.output().includes("listening on"); i++) {
    assert.ok(i < 2000 && first.state() !== undefined, `the bank did not start: ${first.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const c = await bank.client();
  const account = (await expectReply(c, "AC", /^AC \d{5}\//)).slice(3);
  await expectReply(c, `AD ${account} 25`, "AD");
  c.close();

  await first.kill9();
  assert.equal(first.state(), "Z");
  const again = new BankProcess(bank.config, bank.dir);
  cleanups.push(() => again.stop("SIGKILL"));
  await again.start();
  const c2 = await again.client();
  await expectReply(c2, `AB ${account}`, "AB 25");
  c2.close();
  assert.equal(await again.stop(), 0, again.output);
});
