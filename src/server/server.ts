/** The TCP server: accepts clients up to a limit, logs every exchange, shuts down gracefully. */
import { createServer, type Server, type Socket } from "node:net";
import { parseCommand } from "../protocol/commands.ts";
import type { Frame } from "../protocol/framing.ts";
import { BankError, errorLine, type Language } from "../protocol/messages.ts";
import type { MaybePromise } from "../ledger/ledger.ts";
import { logCommand, logger } from "../log.ts";
import { asBankError, dispatch, type DispatchContext } from "./dispatch.ts";
import { type CloseReason, Session } from "./session.ts";

/** What one command did, as the monitor's feed shows it. */
export interface CommandRecord {
  readonly peer: string;
  readonly request: string;
  readonly reply: string;
  readonly ms: number;
}

/** How the server listens and treats clients. */
export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly clientTimeoutMs: number;
  readonly maxConnections: number;
  readonly language: Language;
  /** Told of every command after it is logged (the monitor page); absent when nobody listens. */
  readonly onCommand?: (record: CommandRecord) => void;
}

const log = logger("server");

const DISCONNECT_MESSAGES: Record<Exclude<CloseReason, "idle">, string> = {
  left: "Client {peer} disconnected",
  error: "Client {peer} connection failed",
  shutdown: "Client {peer} disconnected by shutdown",
};

/** How long a refused client may keep its half of the connection open. */
const REFUSED_LINGER_MS = 2000;

/** A running bank server. */
export class BankServer {
  readonly #options: ServerOptions;
  readonly #ctx: DispatchContext;
  readonly #server: Server;
  readonly #sessions = new Set<Session>();

  constructor(options: ServerOptions, ctx: DispatchContext) {
    this.#options = options;
    this.#ctx = ctx;
    this.#server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  /** Starts listening; rejects when the address is taken or not ours. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen({ host: this.#options.host, port: this.#options.port, backlog: 1024 }, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting, lets every client's received commands finish and reply, closes them. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#sessions].map((s) => s.stop()));
    await closed;
  }

  #accept(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.#sessions.size >= this.#options.maxConnections) {
      log.warn("Connection from {peer} refused: {connections} open", {
        event: "refused",
        peer,
        connections: this.#sessions.size,
      });
      socket.end(`${errorLine(this.#options.language, new BankError("too_many_connections"))}\r\n`);
      // Half-open sockets are allowed, so let go of this one ourselves: discard what it sends (closing
      // with unread data would reset the connection and could lose the ER) until it leaves or 2 s pass.
      socket.resume();
      socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
      socket.on("end", () => socket.destroy());
      socket.on("error", () => socket.destroy());
      return;
    }
    const seconds = this.#options.clientTimeoutMs / 1000;
    const idleLine = errorLine(this.#options.language, new BankError("idle_timeout", { seconds: String(seconds) }));
    const peerJson = JSON.stringify(peer);
    const session = new Session(socket, (frame) => this.#handle(frame, peer, peerJson), {
      idleTimeoutMs: this.#options.clientTimeoutMs,
      idleLine,
    });
    this.#sessions.add(session);
    log.debug("Client {peer} connected", { event: "connect", peer });
    void session.closed.then((reason) => {
      this.#sessions.delete(session);
      if (reason === "idle") {
        log.info("Client {peer} disconnected after {seconds} s without a command", { event: "idle_disconnect", peer, seconds });
      } else {
        log.debug(DISCONNECT_MESSAGES[reason], { event: "disconnect", peer, reason });
      }
    });
  }

  /** Answers one frame, logging request, reply and duration as one structured line. */
  #handle(frame: Frame, peer: string, peerJson: string): MaybePromise<string | undefined> {
    const started = performance.now();
    if (frame.kind !== "line") {
      const refusal = new BankError(frame.kind === "too_long" ? "line_too_long" : "invalid_utf8");
      // The log shows what was refused: its first bytes, escaped.
      const request = `<${frame.kind}> ${frame.preview}`;
      return this.#logged(peer, peerJson, request, started, this.#refusal(refusal, peer, request));
    }
    const request = frame.text;
    let result: MaybePromise<string>;
    try {
      const command = parseCommand(request);
      if (command === undefined) return undefined;
      result = dispatch(this.#ctx, command);
    } catch (error) {
      result = this.#refusal(error, peer, request);
    }
    if (!(result instanceof Promise)) return this.#logged(peer, peerJson, request, started, result);
    return result.then(
      (reply) => this.#logged(peer, peerJson, request, started, reply),
      (error: unknown) => this.#logged(peer, peerJson, request, started, this.#refusal(error, peer, request)),
    );
  }

  #logged(peer: string, peerJson: string, request: string, started: number, reply: string): string {
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    logCommand(peerJson, request, reply, ms);
    this.#options.onCommand?.({ peer, request, reply, ms });
    return reply;
  }

  /** The `ER` line for a refusal; anything else is a bug, logged and answered as an internal error. */
  #refusal(error: unknown, peer: string, request: string): string {
    const refusal = asBankError(error);
    if (refusal) return errorLine(this.#options.language, refusal);
    log.error("Internal error on {request} from {peer}: {error}", { event: "bug", peer, request, error: String(error) });
    return errorLine(this.#options.language, new BankError("internal_error"));
  }
}
