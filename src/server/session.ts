/** One client connection: framing -> handler -> replies in order, coalesced into one write per batch. */
import type { Socket } from "node:net";
import { type Frame, LineFramer } from "../protocol/framing.ts";
import type { MaybePromise } from "../ledger/ledger.ts";

/** Answers one frame with a reply line (no line end), or undefined for a blank line. */
export type FrameHandler = (frame: Frame) => MaybePromise<string | undefined>;

/** Replies waiting for their turn; past this many the socket stops being read (bounded memory). */
const MAX_IN_FLIGHT = 1024;
/** Commands run per event-loop turn for one client, so a flood from one cannot stall the others. */
const FRAMES_PER_TURN = 64;

/** At shutdown or after an idle disconnect, how long a client may keep its half open after our last line. */
const LINGER_MS = 1000;

/** Why a connection ended: the client left, it was idle too long, it failed, or the bank is stopping. */
export type CloseReason = "left" | "idle" | "error" | "shutdown";

/** How a session treats its client. */
export interface SessionOptions {
  /** Silence after which the client is disconnected; the clock runs only while no command is in progress. */
  readonly idleTimeoutMs: number;
  /** The line (without line end) sent to an idle client before closing. */
  readonly idleLine: string;
}

interface Slot {
  reply: string | undefined;
  done: boolean;
}

/** A connected client. */
export class Session {
  readonly #socket: Socket;
  readonly #handle: FrameHandler;
  readonly #framer = new LineFramer();
  /** Frames received and not yet run; while any wait here the socket is not read. */
  #backlog: Frame[] = [];
  #backlogHead = 0;
  #workScheduled = false;
  /** Replies in command order, from #head; a slot is done once its reply is known. */
  #queue: Slot[] = [];
  #head = 0;
  #flushScheduled = false;
  /** The client is not reading its replies: stop running its commands until they drain. */
  #draining = false;
  #stopping = false;
  #discarding = false;
  #reason: CloseReason = "left";
  readonly #idleLine: string;
  readonly #closed: Promise<CloseReason>;

  constructor(socket: Socket, handle: FrameHandler, options: SessionOptions) {
    this.#socket = socket;
    this.#handle = handle;
    this.#idleLine = options.idleLine;
    socket.setNoDelay(true);
    // Node's socket timeout measures silence in both directions and re-arms on the next read or write, so
    // after a slow command it restarts with our reply: the clock measures the client's silence only.
    socket.setTimeout(options.idleTimeoutMs, () => this.#onIdle());
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => {
      this.#draining = false;
      this.#work();
    });
    // A client that half-closes (`printf … | nc`) still gets the replies to everything it sent.
    socket.on("end", () => this.#finish());
    socket.on("error", () => {
      this.#reason = "error";
      socket.destroy();
    });
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve(this.#reason)));
  }

  /** Resolves, with the reason, when the connection is gone. */
  get closed(): Promise<CloseReason> {
    return this.#closed;
  }

  /** A command received and not yet answered: the client is waiting for us, not idle. */
  #busy(): boolean {
    return this.#backlogHead < this.#backlog.length || this.#head < this.#queue.length;
  }

  #onIdle(): void {
    if (this.#busy() || this.#stopping) return;
    this.#reason = "idle";
    this.#stopping = true;
    this.#discarding = true;
    this.#socket.end(`${this.#idleLine}\r\n`);
    this.#socket.resume();
    setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
  }

  /**
   * Lets the commands already received finish and reply, then closes. What the client sends from now
   * on is read and dropped: left unread it would hold the connection open (and reset it on close).
   */
  async stop(): Promise<void> {
    if (!this.#stopping) this.#reason = "shutdown";
    this.#discarding = true;
    this.#finish();
    this.#socket.resume();
    await this.#closed;
  }

  #finish(): void {
    this.#stopping = true;
    this.#socket.pause();
    this.#endIfIdle();
  }

  #endIfIdle(): void {
    if (this.#stopping && this.#backlogHead === this.#backlog.length && this.#head === this.#queue.length) {
      if (this.#socket.writableEnded) return;
      this.#socket.end();
      // At shutdown a client that keeps its side open must not keep the bank from exiting.
      if (this.#discarding) setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#discarding) return;
    const frames = this.#framer.push(chunk);
    if (frames.length === 0) return;
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog = frames;
      this.#backlogHead = 0;
    } else {
      for (const frame of frames) this.#backlog.push(frame);
    }
    this.#work();
  }

  /** Runs a slice of the backlog; the rest waits for the next turn, the socket paused meanwhile. */
  #work(): void {
    this.#workScheduled = false;
    let ran = 0;
    while (
      this.#backlogHead < this.#backlog.length && ran < FRAMES_PER_TURN && !this.#draining &&
      this.#queue.length - this.#head < MAX_IN_FLIGHT
    ) {
      this.#run(this.#backlog[this.#backlogHead++]!);
      ran++;
    }
    this.#scheduleFlush();
    if (this.#backlogHead < this.#backlog.length) {
      this.#socket.pause();
      // Blocked on the client (draining) or on replies in flight: #flush or "drain" calls #work again.
      if (!this.#draining && this.#queue.length - this.#head < MAX_IN_FLIGHT && !this.#workScheduled) {
        this.#workScheduled = true;
        setImmediate(() => this.#work());
      }
    } else if (!this.#stopping && !this.#draining) {
      this.#socket.resume();
    }
  }

  #run(frame: Frame): void {
    let result: MaybePromise<string | undefined>;
    try {
      result = this.#handle(frame);
    } catch {
      // The handler answers every refusal itself; a throw here is a bug: close rather than hang.
      this.#socket.destroy();
      return;
    }
    if (result instanceof Promise) {
      const slot: Slot = { reply: undefined, done: false };
      this.#queue.push(slot);
      result.then(
        (reply) => {
          slot.reply = reply;
          slot.done = true;
          this.#scheduleFlush();
        },
        () => this.#socket.destroy(),
      );
    } else if (result !== undefined) {
      this.#queue.push({ reply: result, done: true });
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A microtask: every reply settled in this turn leaves in one write.
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    let out = "";
    const wasFull = this.#queue.length - this.#head >= MAX_IN_FLIGHT;
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.done) {
      const reply = this.#queue[this.#head++]!.reply;
      if (reply !== undefined) out += `${reply}\r\n`;
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    if (out !== "" && !this.#socket.destroyed && !this.#socket.write(out)) {
      this.#draining = true;
      this.#socket.pause();
    }
    if (wasFull && !this.#draining && this.#queue.length - this.#head < MAX_IN_FLIGHT) this.#work();
    this.#endIfIdle();
  }
}
