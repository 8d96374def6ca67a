/**
 * What the monitor page shows besides the ledger: the latest commands, commands per second, the banks
 * we talked to and the last scan. Recording is a few stores per command; everything costlier (parsing
 * a request, building JSON) happens only when a page asks, at most once a second.
 */
import type { CommandRecord } from "../server/server.ts";
import type { PeerContact } from "../peers/directory.ts";
import type { ScanResult } from "../peers/scan.ts";

/** How many of the latest commands are kept. */
export const FEED_SIZE = 200;
/** How many seconds of commands-per-second history are kept (10 minutes). */
export const RATE_SECONDS = 600;
/** How many other banks are remembered; the one heard from longest ago is dropped first. */
export const MAX_PEERS = 256;

/** One command as the page's feed shows it. */
export interface FeedEntry {
  /** Its place among all commands since start: the page skips entries it has already shown. */
  readonly seq: number;
  /** Milliseconds since the epoch, to the second (see Activity.command). */
  readonly time: number;
  readonly peer: string;
  readonly request: string;
  readonly reply: string;
  readonly ms: number;
  /** The bank code the command was for, when it was another bank's (a forward). */
  readonly forwardTo?: string;
  readonly error: boolean;
}

/** Another bank this bank has talked to. */
export interface PeerView {
  readonly code: string;
  /** The port last tried or found; undefined when none answered. */
  port: number | undefined;
  /** Milliseconds since the epoch. */
  lastContact: number;
  /** Of the last successful exchange; undefined when there was none. */
  latencyMs: number | undefined;
  ok: number;
  failures: number;
  /** The last failure, with the address tried. */
  lastError: string | undefined;
  /** How we came to talk to it. */
  via: "forward" | "scan";
}

/** The network as the last scan found it; amounts and clients as decimal strings (they are bigints). */
export interface NetworkView {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly ms: number;
  readonly banks: readonly { code: string; port: number; amount: string; clients: string }[];
  readonly problems: readonly { code: string; port: number; reason: string }[];
}

/** `AD 10001/10.0.0.2 5` → "10.0.0.2": the bank code of an account command, else undefined. */
const ACCOUNT_COMMAND = /^[ \t]*(?:AD|AW|AB|AR)[ \t]+[0-9]+\/([0-9.]+)/i;

/** Records what the bank does, for the monitor page. */
export class Activity {
  readonly #bankCode: string;
  readonly #records: (CommandRecord | undefined)[] = new Array(FEED_SIZE);
  readonly #times = new Float64Array(FEED_SIZE);
  /** When the current second of the rate history began. */
  #secondStarted = Date.now();
  #commands = 0;
  #thisSecond = 0;
  /** Commands per second, a ring: #rate[#rateEnd - 1] is the last whole second. */
  readonly #rate = new Uint32Array(RATE_SECONDS);
  #seconds = 0;
  readonly #peers = new Map<string, PeerView>();
  #network: NetworkView | undefined;
  /** Bumped on every change of the peers or the network, so unchanged ones are not sent again. */
  #version = 0;

  constructor(bankCode: string) {
    this.#bankCode = bankCode;
  }

  /**
   * Records one command (the server's hook): three stores and two increments. Its time is that of the
   * current second rather than its own: reading the clock would be the dearest part of the hook.
   */
  readonly command = (record: CommandRecord): void => {
    const slot = this.#commands++ % FEED_SIZE;
    this.#records[slot] = record;
    this.#times[slot] = this.#secondStarted;
    this.#thisSecond++;
  };

  /** Records one forward's outcome (the peer directory's hook). */
  readonly contact = (contact: PeerContact): void => {
    const peer = this.#peer(contact.bank, "forward");
    peer.lastContact = Date.now();
    if (contact.port !== undefined) peer.port = contact.port;
    if (contact.ok) {
      peer.ok++;
      peer.latencyMs = contact.ms;
    } else {
      peer.failures++;
      peer.lastError = `${contact.bank}:${contact.port ?? "65525–65535"}: ${contact.reason ?? "failed"}`;
    }
    this.#version++;
  };

  /** Records the result of a scan: the network, and every bank found as a peer. */
  readonly scanned = (result: ScanResult): void => {
    const now = Date.now();
    this.#network = {
      time: now,
      ms: Math.round(result.ms),
      banks: result.banks.map((b) => ({ code: b.code, port: b.port, amount: String(b.amount), clients: String(b.clients) })),
      problems: result.problems.map((p) => ({ code: p.code, port: p.port, reason: p.reason })),
    };
    for (const bank of result.banks) {
      if (bank.code === this.#bankCode) continue;
      const peer = this.#peer(bank.code, "scan");
      peer.port = bank.port;
      peer.lastContact = now;
    }
    this.#version++;
  };

  /** Closes the current second of the rate history; call once a second. */
  closeSecond(): void {
    this.#rate[this.#seconds++ % RATE_SECONDS] = this.#thisSecond;
    this.#thisSecond = 0;
    this.#secondStarted = Date.now();
  }

  /** Every command recorded so far. */
  get commands(): number {
    return this.#commands;
  }

  /** Seconds closed so far. */
  get seconds(): number {
    return this.#seconds;
  }

  /** Changes of peers or network so far. */
  get version(): number {
    return this.#version;
  }

  /** Commands per second for the seconds closed after `since` (at most RATE_SECONDS), oldest first. */
  rateSince(since: number): number[] {
    const from = Math.max(since, this.#seconds - RATE_SECONDS, 0);
    const out: number[] = [];
    for (let s = from; s < this.#seconds; s++) out.push(this.#rate[s % RATE_SECONDS]!);
    return out;
  }

  /** The commands recorded after the first `since`, at most `limit` of the newest, oldest first. */
  feedSince(since: number, limit = FEED_SIZE): FeedEntry[] {
    const from = Math.max(since, this.#commands - Math.min(limit, FEED_SIZE), 0);
    const out: FeedEntry[] = [];
    for (let n = from; n < this.#commands; n++) {
      const slot = n % FEED_SIZE;
      out.push(this.#entry(n, this.#records[slot]!, this.#times[slot]!));
    }
    return out;
  }

  /** The banks talked to, last contact first. */
  peers(): PeerView[] {
    return [...this.#peers.values()].sort((a, b) => b.lastContact - a.lastContact);
  }

  /** The last scan, if any. */
  network(): NetworkView | undefined {
    return this.#network;
  }

  #entry(seq: number, record: CommandRecord, time: number): FeedEntry {
    const bank = ACCOUNT_COMMAND.exec(record.request)?.[1];
    const error = record.reply.startsWith("ER");
    const base = { seq, time, peer: record.peer, request: record.request, reply: record.reply, ms: record.ms, error };
    return bank !== undefined && bank !== this.#bankCode ? { ...base, forwardTo: bank } : base;
  }

  #peer(code: string, via: PeerView["via"]): PeerView {
    let peer = this.#peers.get(code);
    if (peer === undefined) {
      if (this.#peers.size >= MAX_PEERS) {
        const oldest = this.peers().at(-1)!;
        this.#peers.delete(oldest.code);
      }
      peer = { code, port: undefined, lastContact: 0, latencyMs: undefined, ok: 0, failures: 0, lastError: undefined, via };
      this.#peers.set(code, peer);
    }
    if (via === "forward") peer.via = via;
    return peer;
  }
}
