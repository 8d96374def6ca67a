/**
 * A real browser for page tests: puppeteer-core driving the system's Chromium (Debian's `chromium`;
 * CHROMIUM names another binary). Nothing is downloaded; every profile is fresh and thrown away.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Where the browser binary is. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  if (path === undefined) throw new Error("no Chromium found: apt-get install -y chromium (or set CHROMIUM)");
  return path;
}

/** A browser with a fresh profile, and what went wrong on its pages. */
export interface TestBrowser {
  readonly browser: Browser;
  /** Uncaught exceptions in the scripts of every page opened with newPage(). */
  readonly scriptErrors: string[];
  /** Console errors of those pages (failed loads among them). */
  readonly consoleErrors: string[];
  /** Every URL a page requested. */
  readonly requests: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Starts headless Chromium with no network services of its own (no updates, sync or QUIC). */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "bank-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  const scriptErrors: string[] = [];
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  return {
    browser,
    scriptErrors,
    consoleErrors,
    requests,
    async newPage() {
      const page = await browser.newPage();
      page.on("pageerror", (error) => scriptErrors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      page.on("request", (request) => requests.push(request.url()));
      return page;
    },
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
