/**
 * The monitor: a read-only HTTP server with one page, a Server-Sent Events stream of what the bank
 * does, and two small JSON queries (a page of accounts, a robbery plan). Nothing here changes money.
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AccountPage, AccountQuery, MaybePromise } from "../ledger/ledger.ts";
import { logger } from "../log.ts";
import type { RobberyPlan } from "../plan/robbery.ts";
import { BankError, errorLine } from "../protocol/messages.ts";
import { parseAmount } from "../protocol/values.ts";
import type { Activity } from "./activity.ts";
import { monitorPage } from "./page.ts";
import { ownHosts, refusal } from "./request_guard.ts";

/** How often the stream sends what changed. */
export const TICK_MS = 1000;
/** The most feed entries one tick carries; under heavy load the page shows the latest of them. */
const FEED_PER_TICK = 50;
/** The most pages streaming at once. */
const MAX_STREAMS = 64;
/** A page that lets this much of the stream pile up unread is dropped (it reconnects when it can). */
const MAX_UNSENT_BYTES = 1 << 20;
/** The most accounts one query returns. */
const MAX_PAGE_ROWS = 500;
/**
 * How long a page of accounts is answered from the last identical query: open pages all refresh the
 * same first page while money moves, and each query costs the bank's thread about a millisecond.
 */
const ACCOUNTS_CACHE_MS = 1000;

const JSON_TYPE = "application/json; charset=utf-8";

const log = logger("monitor");

/** What the monitor reads from the bank. */
export interface MonitorSource {
  readonly bankCode: string;
  /** The bank's own `host:port`. */
  readonly listen: string;
  readonly activity: Activity;
  readonly ledger: {
    total(): MaybePromise<bigint>;
    count(): MaybePromise<number>;
    accounts(query: AccountQuery): MaybePromise<AccountPage>;
  };
  /** Scans the network and plans a robbery, as `RP` does. */
  plan(target: bigint): Promise<RobberyPlan>;
}

/** Where the monitor listens. */
export interface MonitorOptions {
  readonly host: string;
  readonly port: number;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** A running monitor. */
export class MonitorServer {
  readonly #source: MonitorSource;
  readonly #server: Server;
  readonly #hosts: ReadonlySet<string>;
  readonly #streams = new Set<ServerResponse>();
  readonly #started = Date.now();
  readonly #timer: ReturnType<typeof setInterval>;
  /** Where the last tick left off: the next one sends what came after. */
  #sentCommands: number;
  #sentSeconds: number;
  #sentVersion = -1;
  #planning: Promise<unknown> | undefined;
  #lastAccounts: { query: string; time: number; body: string } | undefined;

  private constructor(options: MonitorOptions, source: MonitorSource) {
    this.#source = source;
    this.#hosts = ownHosts(options.host, options.port);
    this.#sentCommands = source.activity.commands;
    this.#sentSeconds = source.activity.seconds;
    this.#server = createServer((req, res) => void this.#route(req, res).catch((error) => this.#failed(res, error)));
    this.#timer = setInterval(() => void this.#tick().catch((error) => log.error("Monitor tick failed: {error}", { error: String(error) })), TICK_MS);
    this.#timer.unref?.();
  }

  /** Starts listening; rejects when the address is taken. */
  static async start(options: MonitorOptions, source: MonitorSource): Promise<MonitorServer> {
    const monitor = new MonitorServer(options, source);
    try {
      await new Promise<void>((resolve, reject) => {
        monitor.#server.once("error", reject);
        monitor.#server.listen({ host: options.host, port: options.port }, () => {
          monitor.#server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      clearInterval(monitor.#timer);
      throw new Error(`the monitor cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
    }
    return monitor;
  }

  /** Ends every stream (pages reconnect to the next start) and stops listening. */
  close(): Promise<void> {
    clearInterval(this.#timer);
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections?.();
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req.method, req.headers.host, this.#hosts);
    if (refused !== undefined) {
      log.warn("Monitor refused {method} {url} from {peer}: {status}", {
        event: "monitor_refused",
        method: req.method,
        url: req.url,
        host: req.headers.host,
        peer: req.socket.remoteAddress,
        status: refused.status,
      });
      const headers: Record<string, string> = refused.status === 405 ? { allow: "GET, HEAD" } : {};
      return this.#send(req, res, refused.status, "text/plain; charset=utf-8", refused.text, headers);
    }
    const url = new URL(req.url ?? "/", "http://monitor");
    switch (url.pathname) {
      case "/": {
        const page = monitorPage();
        return this.#send(req, res, 200, "text/html; charset=utf-8", page.html, { "content-security-policy": page.csp });
      }
      case "/events":
        return this.#stream(req, res);
      case "/api/accounts":
        return this.#accounts(req, res, url.searchParams);
      case "/api/plan":
        return this.#plan(req, res, url.searchParams);
      default:
        return this.#send(req, res, 404, "text/plain; charset=utf-8", "Not found.\n");
    }
  }

  #send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
  ): void {
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers, "content-type": type, "content-length": bytes.length });
    res.end(req.method === "HEAD" ? undefined : bytes);
  }

  #json(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void {
    this.#send(req, res, status, JSON_TYPE, JSON.stringify(value));
  }

  #failed(res: ServerResponse, error: unknown): void {
    log.error("Monitor request failed: {error}", { event: "monitor_failed", error: String(error) });
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end("Internal error.\n");
  }

  async #stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#streams.size >= MAX_STREAMS) {
      return this.#send(req, res, 503, "text/plain; charset=utf-8", `More than ${MAX_STREAMS} pages are open.\n`);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
    if (req.method === "HEAD") return void res.end();
    const { activity, bankCode, listen } = this.#source;
    const hello = {
      bankCode,
      listen,
      startedAt: this.#started,
      ...(await this.#totals()),
      rate: { from: Math.max(0, activity.seconds - activity.rateSince(0).length), counts: activity.rateSince(0) },
      feed: activity.feedSince(0),
      peers: activity.peers(),
      network: activity.network() ?? null,
    };
    // retry: how soon the browser reconnects after the bank stops, in ms.
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    this.#streams.add(res);
    res.on("close", () => this.#streams.delete(res));
  }

  async #totals() {
    const { activity, ledger } = this.#source;
    return { now: Date.now(), accounts: await ledger.count(), total: String(await ledger.total()), commands: activity.commands };
  }

  /** Once a second: closes the rate second and sends every page what changed, one string for all. */
  async #tick(): Promise<void> {
    const { activity } = this.#source;
    activity.closeSecond();
    if (this.#streams.size === 0) {
      this.#sentCommands = activity.commands;
      this.#sentSeconds = activity.seconds;
      this.#sentVersion = -1;
      return;
    }
    const changed = activity.version !== this.#sentVersion;
    const tick = {
      ...(await this.#totals()),
      rate: { from: this.#sentSeconds, counts: activity.rateSince(this.#sentSeconds) },
      feed: activity.feedSince(this.#sentCommands, FEED_PER_TICK),
      ...(changed ? { peers: activity.peers(), network: activity.network() ?? null } : {}),
    };
    this.#sentCommands = activity.commands;
    this.#sentSeconds = activity.seconds;
    this.#sentVersion = activity.version;
    const message = `event: tick\ndata: ${JSON.stringify(tick)}\n\n`;
    for (const stream of this.#streams) {
      if (stream.writableLength > MAX_UNSENT_BYTES) stream.destroy();
      else stream.write(message);
    }
  }

  async #accounts(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
    const int = (name: string, fallback: number, max: number) => {
      const text = params.get(name);
      return text !== null && /^[0-9]{1,6}$/.test(text) ? Math.min(Number(text), max) : fallback;
    };
    const search = params.get("q") ?? "";
    if (!/^[0-9]{0,5}$/.test(search)) {
      return this.#json(req, res, 400, { error: "Search by account number: up to five digits." });
    }
    const query: AccountQuery = {
      offset: int("offset", 0, 100_000),
      limit: Math.max(1, int("limit", 50, MAX_PAGE_ROWS)),
      sort: params.get("sort") === "balance" ? "balance" : "number",
      descending: params.get("order") === "desc",
      search,
    };
    const key = JSON.stringify(query);
    const cached = this.#lastAccounts;
    if (cached !== undefined && cached.query === key && Date.now() - cached.time < ACCOUNTS_CACHE_MS) {
      return this.#send(req, res, 200, JSON_TYPE, cached.body);
    }
    const page = await this.#source.ledger.accounts(query);
    const body = JSON.stringify({
      offset: query.offset,
      matching: page.matching,
      rows: page.rows.map(([account, balance]) => [account, String(balance)]),
    });
    this.#lastAccounts = { query: key, time: Date.now(), body };
    this.#send(req, res, 200, JSON_TYPE, body);
  }

  async #plan(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
    const target = parseAmount(params.get("amount") ?? "");
    if (typeof target !== "bigint") {
      return this.#json(req, res, 400, { error: "The amount must be a whole number 0–9223372036854775807." });
    }
    if (this.#planning !== undefined) return this.#json(req, res, 429, { error: "A plan is being made already; try again." });
    const planning = this.#source.plan(target);
    this.#planning = planning.finally(() => (this.#planning = undefined)).catch(() => {});
    let plan: RobberyPlan;
    try {
      plan = await planning;
    } catch (error) {
      const text = error instanceof BankError ? errorLine("en", error).slice(3) : String(error);
      return this.#json(req, res, 502, { error: text });
    }
    this.#json(req, res, 200, {
      target: String(plan.target),
      reachable: plan.reachable,
      exact: plan.reachable ? plan.exact : true,
      banks: plan.reachable ? plan.banks.map((b) => b.code) : [],
      amount: String(plan.amount),
      clients: String(plan.clients),
    });
  }
}
