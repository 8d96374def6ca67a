/** Forwarding to other banks: finds the port a bank listens on, remembers it, relays one line. */
import { logger } from "../log.ts";
import type { BankCode } from "../protocol/values.ts";
import { BANK_PORTS, exchange, expectReply, PeerError } from "./client.ts";

/**
 * The most forwards in progress at once. Beyond it a forward fails at once with bank_unreachable
 * rather than queueing: a queued forward would mostly wait out its client's deadline, and each one
 * may hold a probe per port, so this also bounds the sockets we open.
 */
export const MAX_FORWARDS_IN_FLIGHT = 256;

const log = logger("peers");

/**
 * A forward that got no reply. `delivered` says whether the request may have reached the other bank
 * (it was written to an open connection): then its outcome is unknown, not "unreachable".
 */
export class ForwardError extends Error {
  constructor(readonly bank: BankCode, readonly delivered: boolean, reason: string) {
    super(reason);
    this.name = "ForwardError";
  }
}

/** One forward's outcome, for whoever watches the peers (the monitor page). */
export interface PeerContact {
  readonly bank: BankCode;
  /** The port tried; undefined when no port answered BC. */
  readonly port: number | undefined;
  readonly ok: boolean;
  readonly ms: number;
  /** Why it failed. */
  readonly reason?: string;
}

/** Finds other banks by their bank code and relays commands to them. */
export class BankDirectory {
  readonly #timeoutMs: number;
  readonly #ports: readonly number[];
  readonly #localAddress: string | undefined;
  readonly #onContact: ((contact: PeerContact) => void) | undefined;
  /** The port each bank answered BC on, keyed by the address we dialled (a bank's BC may name another). */
  readonly #known = new Map<BankCode, number>();
  /** Probes running now, so concurrent forwards to one unknown bank share a single probe. */
  readonly #probes = new Map<BankCode, Promise<number | undefined>>();
  #inFlight = 0;

  /** BC replies from this bank (its code, on its port) are its own voice, never another bank's. */
  readonly #self: { code: string; port: number } | undefined;

  /**
   * `timeoutMs` bounds a whole forward (probe included); `ports` defaults to 65525–65535;
   * `localAddress` is the address we connect from (our own, so the other bank logs who we are);
   * `self` is our bank code and port: a bank listening on every address must not find itself by probing;
   * `onContact` hears of every forward's outcome.
   */
  constructor(
    options: {
      timeoutMs: number;
      ports?: readonly number[];
      localAddress?: string;
      self?: { code: string; port: number };
      onContact?: (contact: PeerContact) => void;
    },
  ) {
    this.#timeoutMs = options.timeoutMs;
    this.#ports = options.ports ?? BANK_PORTS;
    this.#localAddress = options.localAddress;
    this.#self = options.self;
    this.#onContact = options.onContact;
  }

  /** Sends `line` to the bank with code `bank` and returns its reply line as it came; throws ForwardError. */
  async forward(bank: BankCode, line: string): Promise<string> {
    const started = performance.now();
    const deadline = started + this.#timeoutMs;
    const fail = (port: number | undefined, reason: string, delivered = false): ForwardError => {
      const ms = Math.round(performance.now() - started);
      log.warn("Forward {line} to {bank} failed: {reason}", { event: "forward_failed", bank, port, line, reason, delivered, ms });
      this.#onContact?.({ bank, port, ok: false, ms, reason });
      return new ForwardError(bank, delivered, reason);
    };
    if (this.#inFlight >= MAX_FORWARDS_IN_FLIGHT) throw fail(undefined, `more than ${MAX_FORWARDS_IN_FLIGHT} forwards in flight`);
    this.#inFlight++;
    try {
      let port = this.#known.get(bank);
      // A port this forward found itself is never probed for again; only a remembered one may be stale.
      let probed = false;
      for (;;) {
        if (port === undefined) {
          port = await this.#locate(bank, deadline);
          if (port === undefined) throw fail(undefined, "no port answered BC");
          probed = true;
        }
        try {
          const reply = await exchange(bank, port, line, deadline - performance.now(), { localAddress: this.#localAddress });
          const ms = Math.round(performance.now() - started);
          log.info("Forward {line} to {bank}:{port} -> {reply}", { event: "forward", bank, port, line, reply, ms });
          this.#onContact?.({ bank, port, ok: true, ms });
          return reply;
        } catch (error) {
          if (!(error instanceof PeerError)) throw error;
          // Only a refused connection proves nothing was delivered; after a timeout or a close the other
          // bank may have applied the command (a deposit twice is worse than an unreachable error).
          if (error.kind !== "refused" || probed) throw fail(port, error.message, error.delivered);
          // The bank moved or restarted on another port: forget the old one and look again, once.
          if (this.#known.get(bank) === port) this.#known.delete(bank);
          port = undefined;
        }
      }
    } finally {
      this.#inFlight--;
    }
  }

  /** The port of `bank`, probing every port in parallel unless a probe for it is already running. */
  #locate(bank: BankCode, deadline: number): Promise<number | undefined> {
    // A running probe was started by an earlier forward, so it ends before this forward's deadline too.
    let probe = this.#probes.get(bank);
    if (probe === undefined) {
      probe = this.#probe(bank, deadline).finally(() => this.#probes.delete(bank));
      this.#probes.set(bank, probe);
    }
    return probe;
  }

  /** Sends BC to every port at once; the first to answer BC wins and is remembered. */
  #probe(bank: BankCode, deadline: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      let found: number | undefined;
      let pending = this.#ports.length;
      if (pending === 0) resolve(undefined);
      for (const port of this.#ports) {
        exchange(bank, port, "BC", deadline - performance.now(), { localAddress: this.#localAddress })
          .then((reply) => {
            const fields = expectReply(reply, "BC");
            const isSelf = port === this.#self?.port && fields?.[0] === this.#self.code;
            // Later answers from other ports lose: the first port to answer keeps the bank.
            if (found === undefined && fields !== undefined && !isSelf) {
              found = port;
              this.#known.set(bank, port);
              resolve(port);
            }
          })
          .catch(() => {
            // A port that refuses or stays silent is simply not where the bank is.
          })
          .finally(() => {
            if (--pending === 0) resolve(found);
          });
      }
    });
  }
}
