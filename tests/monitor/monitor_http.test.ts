/**
 * The monitor over plain HTTP, against the built bank: read-only (GET and HEAD only), refuses foreign
 * Host headers, serves a self-contained page, streams events, and pages 90,000 accounts on the server.
 * Bank on 127.0.12.3; 127.0.12.0/24 belongs to the monitor tests.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { type BankClient, BankProcess, runBank } from "../helpers/bank_process.ts";

const HOST = "127.0.12.3";
const MONITOR_PORT = 8013;
const OWN_HOST = `${HOST}:${MONITOR_PORT}`;
const ACCOUNTS = 90_000;

let bank: BankProcess;
let client: BankClient;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to the monitor; `host` is the Host header sent. */
function http(path: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: HOST, port: MONITOR_PORT, path, method: options.method ?? "GET", headers: { host: options.host ?? OWN_HOST } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.method === "POST" || options.method === "PUT" ? "AD 10000/127.0.12.3 5" : undefined);
  });
}

const json = async (path: string) => {
  const reply = await http(path);
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body);
};

/** Opens `count` accounts, a thousand commands per write, and checks every reply. */
async function openAccounts(count: number): Promise<void> {
  for (let done = 0; done < count;) {
    const batch = Math.min(1000, count - done);
    client.write("AC\r\n".repeat(batch));
    for (let i = 0; i < batch; i++) assert.match((await client.readLine(30_000)) ?? "", /^AC [0-9]{5}\//);
    done += batch;
  }
}

before(async () => {
  bank = await new BankProcess({ host: HOST, port: 65526, monitor: OWN_HOST }).start();
  client = await bank.client();
  await openAccounts(ACCOUNTS);
  // Distinct balances on a few accounts, to see the order by balance.
  for (const [account, amount] of [[10007, 500n], [99999, 9223372036854775807n], [54321, 7n]] as const) {
    assert.equal(await client.request(`AD ${account}/${HOST} ${amount}`), "AD");
  }
});

after(async () => {
  client?.close();
  await bank?.stop();
});

test("the page is one self-contained document whose policy allows nothing from elsewhere", async () => {
  const page = await http("/");
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-type"]), /^text\/html/);
  assert.match(page.body, /<title>bank monitor<\/title>/);
  // No src or href to load anything: the style and script are inline.
  assert.doesNotMatch(page.body, /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  const csp = String(page.headers["content-security-policy"]);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+='/);
  const head = await http("/", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  assert.equal(head.headers["content-length"], page.headers["content-length"]);
});

test("only GET and HEAD: anything else is 405 and changes nothing", async () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    for (const path of ["/", "/api/accounts", "/events", "/api/plan?amount=5"]) {
      const reply = await http(path, { method });
      assert.equal(reply.status, 405, `${method} ${path}`);
      assert.equal(reply.headers.allow, "GET, HEAD");
    }
  }
  assert.equal(await client.request("BA"), `BA ${9223372036854775807n + 507n}`);
});

test("a Host header other than the monitor's own address is refused (DNS rebinding)", async () => {
  for (const host of ["evil.example:8013", `${HOST}:80`, "localhost:8013", "127.0.0.1:8013", `${HOST}.nip.example:8013`]) {
    const reply = await http("/api/accounts", { host });
    assert.equal(reply.status, 403, host);
    assert.doesNotMatch(reply.body, /rows/);
  }
  assert.equal((await http("/", { host: OWN_HOST.toUpperCase() })).status, 200);
});

test("accounts come from the bank a page at a time, sorted and searched there", async () => {
  const first = await json("/api/accounts");
  assert.equal(first.matching, ACCOUNTS);
  assert.equal(first.rows.length, 50);
  assert.deepEqual(first.rows[0], [10000, "0"]);
  const last = await json("/api/accounts?offset=89950&limit=50");
  assert.deepEqual(last.rows.at(-1), [99999, "9223372036854775807"]);
  const richest = await json("/api/accounts?sort=balance&order=desc&limit=3");
  assert.deepEqual(richest.rows, [[99999, "9223372036854775807"], [10007, "500"], [54321, "7"]]);
  const search = await json("/api/accounts?q=4321&limit=500");
  const expected = [];
  for (let n = 10000; n <= 99999; n++) if (String(n).includes("4321")) expected.push(n);
  assert.equal(search.matching, expected.length);
  assert.deepEqual(search.rows.map((r: [number, string]) => r[0]), expected);
  const bad = await http("/api/accounts?q=1%27%20OR%201");
  assert.equal(bad.status, 400);
});

test("the event stream starts with the bank's state and ticks every second", async () => {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: HOST, port: MONITOR_PORT, path: "/events", headers: { host: OWN_HOST } }, (res) => {
      assert.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
      let seen = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        seen += d;
        if (seen.includes("event: tick")) {
          req.destroy();
          resolve(seen);
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
  const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(text)![1]!);
  assert.equal(hello.bankCode, HOST);
  assert.equal(hello.listen, `${HOST}:65526`);
  assert.equal(hello.accounts, ACCOUNTS);
  assert.equal(hello.total, String(9223372036854775807n + 507n));
  assert.ok(hello.feed.some((e: { request: string; reply: string }) => e.request === `AD 54321/${HOST} 7` && e.reply === "AD"));
});

test("a bad monitor address stops the start with a clear message", async () => {
  const result = await runBank(["serve", "--monitor", "localhost:99999", "--port", "65527", "--host", HOST]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--monitor .*'localhost:99999' is invalid\. expected "HOST:PORT" or "PORT"/);
});
