/**
 * The monitor page in a real browser (headless Chromium): it shows the bank, follows a deposit made
 * over TCP without a reload, marks a failed forward, runs the robbery planner, and comes back by
 * itself after the bank restarts. Bank on 127.0.12.2; 127.0.12.0/24 belongs to the monitor tests.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "puppeteer-core";
import { BankProcess } from "../helpers/bank_process.ts";
import { launchBrowser, type TestBrowser } from "../helpers/browser.ts";

const HOST = "127.0.12.2";
const MONITOR = `${HOST}:8012`;
const URL_ = `http://${MONITOR}/`;
/** Nothing listens there: a forward to it fails. */
const MISSING_BANK = "127.0.12.99";

let bank: BankProcess;
let browser: TestBrowser;
let page: Page;

/** The digits of an element's text (the page groups them with thin spaces). */
const digitsOf = (id: string) => page.$eval(`#${id}`, (e) => (e.textContent ?? "").replace(/\D/g, ""));

before(async () => {
  bank = await new BankProcess({ host: HOST, port: 65525, monitor: MONITOR, scan_subnet: "127.0.12.0/30" }).start();
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(URL_, { waitUntil: "load" });
});

after(async () => {
  await browser?.close();
  await bank?.stop();
});

test("the page shows the bank code, its address and a total of 0", async () => {
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "live", { timeout: 5000 });
  assert.equal(await page.$eval("#code", (e) => e.textContent), HOST);
  assert.equal(await page.$eval("#listen", (e) => e.textContent), `${HOST}:65525`);
  assert.equal(await digitsOf("total"), "0");
  assert.equal(await digitsOf("accounts"), "0");
});

test("a deposit over TCP shows in the total within 2 s, without a reload", async () => {
  const client = await bank.client();
  const account = (await client.request("AC")).slice(3);
  assert.equal(await client.request(`AD ${account} 9223372036854775807`), "AD");
  const deposited = performance.now();
  await page.waitForFunction(
    () => (document.getElementById("total")?.textContent ?? "").replace(/\D/g, "") === "9223372036854775807",
    { timeout: 2000, polling: 50 },
  );
  const ms = performance.now() - deposited;
  assert.ok(ms < 2000, `total shown after ${ms} ms`);
  // Grouped in threes, exactly: no float ever touched it.
  assert.equal(await page.$eval("#total", (e) => e.textContent), "9\u202f223\u202f372\u202f036\u202f854\u202f775\u202f807");
  // A second account pushes the total past 2^63 − 1.
  const second = (await client.request("AC")).slice(3);
  assert.equal(await client.request(`AD ${second} 9223372036854775807`), "AD");
  await page.waitForFunction(
    () => (document.getElementById("total")?.textContent ?? "").replace(/\D/g, "") === "18446744073709551614",
    { timeout: 2000, polling: 50 },
  );
  // The accounts table follows too (it refreshes at most every 5 s).
  await page.waitForFunction(
    (n: string) => [...document.querySelectorAll("#accounts-table tbody tr")].some((r) => r.textContent?.startsWith(n)),
    { timeout: 8000 },
    second.split("/")[0]!,
  );
  client.close();
});

test("a failed forward is red in the feed, marked as a forward, and listed with the address tried", async () => {
  const client = await bank.client();
  const reply = await client.request(`AD 10000/${MISSING_BANK} 5`);
  assert.match(reply, /^ER /);
  client.close();
  const row = await page.waitForFunction(
    (bank: string) => {
      const row = [...document.querySelectorAll("#feed tbody tr.error")].find((r) => r.textContent?.includes(`→ ${bank}`));
      return row === undefined ? false : getComputedStyle(row.querySelector("td")!).color;
    },
    { timeout: 3000 },
    MISSING_BANK,
  );
  assert.equal(await row.jsonValue(), "rgb(198, 40, 40)");
  const peer = await page.waitForFunction(
    (bank: string) => {
      const row = [...document.querySelectorAll<HTMLTableRowElement>("#peers tbody tr")].find((r) => r.cells[0]?.textContent === bank);
      return row === undefined ? false : [...row.cells].map((c) => c.textContent ?? "");
    },
    { timeout: 3000 },
    MISSING_BANK,
  );
  const cells = (await peer.jsonValue()) as string[];
  assert.equal(cells[5], "1", "one failure");
  assert.match(cells[6] ?? "", new RegExp(`^${MISSING_BANK.replaceAll(".", "\\.")}:65525–65535: `));
});

test("the feed filter hides what does not match", async () => {
  await page.type("#filter", "forward");
  const visible = await page.$$eval("#feed tbody tr", (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => r.textContent));
  assert.ok(visible.length >= 1 && visible.every((t) => t?.includes(MISSING_BANK)), JSON.stringify(visible));
  await page.$eval("#filter", (e) => ((e as HTMLInputElement).value = ""));
  await page.type("#filter", " ");
});

test("the plan box scans, plans and highlights the banks chosen", async () => {
  await page.type("#plan-amount", "1000");
  await page.click("#plan-run");
  await page.waitForFunction(() => document.getElementById("plan-result")?.textContent?.startsWith("Rob "), { timeout: 10_000 });
  assert.match((await page.$eval("#plan-result", (e) => e.textContent)) ?? "", new RegExp(`^Rob ${HOST.replaceAll(".", "\\.")}: `));
  // The network of that scan reaches the page with the next tick of the stream.
  await page.waitForSelector("#network g.chosen", { timeout: 3000 });
  const chosen = await page.$$eval("#network g.chosen text.code", (texts) => texts.map((t) => t.textContent));
  assert.deepEqual(chosen, [`★ ${HOST}`]);
});

test("after a restart of the bank the page reconnects by itself and shows the new run", async () => {
  const before = await page.$eval("#uptime", (e) => e.textContent);
  await bank.stop();
  await page.waitForFunction(() => document.getElementById("status")?.textContent !== "live", { timeout: 5000 });
  await bank.start();
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "live", { timeout: 10_000 });
  assert.equal(await digitsOf("total"), "18446744073709551614");
  const uptime = await page.$eval("#uptime", (e) => e.textContent);
  assert.ok((uptime ?? "") <= (before ?? ""), `uptime ${uptime} restarted (was ${before})`);
});

test("no script errors, no request beyond the monitor, and a screenshot", async () => {
  const shot = join(bank.dir, "monitor.png");
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000, `screenshot at ${shot}`);
  assert.deepEqual(browser.scriptErrors, []);
  // Console errors are allowed only for the stream refused while the bank was down.
  assert.deepEqual(browser.consoleErrors.filter((e) => !e.includes("ERR_CONNECTION_REFUSED")), []);
  assert.deepEqual(browser.requests.filter((u) => !u.startsWith(URL_)), []);
});
