/**
 * Makes the README's screenshot of the monitor page (docs/monitor.png): four banks on 127.0.13.x, a
 * minute of varying load on the first, forwards to the others (one to a bank that is not there), a
 * robbery plan run from the page. Needs the build and Chromium; binds loopback addresses, so:
 *
 *   npm run build && unshare -n bash -c 'ip link set lo up && node --import tsx scripts/monitor_screenshot.ts'
 */
import { BankProcess } from "../tests/helpers/bank_process.ts";
import { launchBrowser } from "../tests/helpers/browser.ts";

const OUT = process.argv[2] ?? "docs/monitor.png";
const SECONDS = Number(process.env.SHOT_SECONDS ?? 75);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const specs = [
  { host: "127.0.13.2", port: 65525, accounts: 240, money: 9_871_500n },
  { host: "127.0.13.3", port: 65527, accounts: 35, money: 4_200_000n },
  { host: "127.0.13.4", port: 65529, accounts: 9, money: 3_150_000n },
  { host: "127.0.13.5", port: 65531, accounts: 120, money: 1_800_000n },
];
const banks = await Promise.all(
  specs.map((s, i) =>
    new BankProcess({ host: s.host, port: s.port, scan_subnet: "127.0.13.0/29", ...(i === 0 ? { monitor: `${s.host}:8080` } : {}) }).start()
  ),
);
const browser = await launchBrowser();
try {
  const accounts: string[][] = [];
  for (const [i, bank] of banks.entries()) {
    const client = await bank.client();
    const mine: string[] = [];
    for (let a = 0; a < specs[i]!.accounts; a++) mine.push((await client.request("AC")).slice(3));
    // Uneven balances: a few rich accounts, many small ones.
    let left = specs[i]!.money;
    for (const [a, account] of mine.entries()) {
      const amount = a === mine.length - 1 ? left : left / 3n + BigInt(a * 7);
      left -= amount;
      await client.request(`AD ${account} ${amount}`);
    }
    accounts.push(mine);
    client.close();
  }
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto("http://127.0.13.2:8080/");
  const client = await banks[0]!.client();
  const others = [...accounts[1]!.slice(0, 3), ...accounts[2]!.slice(0, 2)];
  /** Load that swells and ebbs, with now and then a forward or a refused withdrawal. */
  const load = async () => {
    for (let second = 0; second < SECONDS; second++) {
      const rate = Math.round(40 + 30 * Math.sin(second / 6) + (second > SECONDS * 0.6 ? 60 : 0));
      for (let i = 0; i < rate; i++) {
        const own = accounts[0]![(second * 31 + i) % accounts[0]!.length]!;
        void client.request(i % 3 === 0 ? `AB ${own}` : `AD ${own} ${1 + (i % 50)}`);
      }
      if (second % 9 === 4) await client.request(`AB ${others[second % others.length]}`);
      if (second % 20 === 10) await client.request(`AW ${accounts[0]![3]} 999999999`);
      await sleep(1000);
    }
  };
  await load();
  await client.request(`AD 10000/127.0.13.9 250`);
  await client.request(`AD ${accounts[3]![0]} 100`);
  await client.request(`AB ${accounts[1]![0]}`);
  // A trickle keeps the page moving while the plan runs, slow enough that the forwards stay in sight.
  let tick = 0;
  const trickle = setInterval(() => void client.request(`AB ${accounts[0]![tick++ % 20]}`), 300);
  await page.type("#plan-amount", "7000000");
  await page.click("#plan-run");
  await page.waitForSelector("#network g.chosen", { timeout: 10_000 });
  await page.click('th[data-sort="balance"]');
  await page.click('th[data-sort="balance"]');
  await sleep(1500);
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}; script errors: ${JSON.stringify(browser.scriptErrors)}`);
  clearInterval(trickle);
  client.close();
} finally {
  await browser.close();
  await Promise.all(banks.map((b) => b.stop()));
}
