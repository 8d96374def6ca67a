/** One client connection: framing -> handler -> replies in order, coalesced into one write per batch. */
import type { Socket } from "node:net";
import { type Frame, LineFramer } from "../protocol/framing.ts";
import type { MaybePromise } from "../ledger/ledger.ts";

/** Answers one frame with a reply line (no line end), or undefined for a blank line. */
export type FrameHandler = (frame: Frame) => MaybePromise<string | undefined>;

/** Replies waiting for their turn; past this many the socket stops being read (bounded memory). */
const MAX_IN_FLIGHT = 1024;

interface Slot {
  reply: string | undefined;
  done: boolean;
}

/** A connected client. */
export class Session {
  readonly #socket: Socket;
  readonly #handle: FrameHandler;
  readonly #framer = new LineFramer();
  #queue: Slot[] = [];
  #head = 0;
  #flushScheduled = false;
  #draining = false;
  #stopping = false;
  readonly #closed: Promise<void>;

  constructor(socket: Socket, handle: FrameHandler, idleTimeoutMs: number) {
    this.#socket = socket;
    this.#handle = handle;
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#resumeIfRoom());
    // A client that half-closes (`printf … | nc`) still gets the replies to everything it sent.
    socket.on("end", () => this.#finish());
    socket.on("error", () => socket.destroy());
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  /** Resolves when the connection is gone. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Stops reading, lets the commands already received finish and reply, then closes. */
  async stop(): Promise<void> {
    this.#finish();
    await this.#closed;
  }

  #finish(): void {
    this.#stopping = true;
    this.#socket.pause();
    if (this.#pending() === 0) this.#socket.end();
  }

  #pending(): number {
    return this.#queue.length - this.#head;
  }

  #onData(chunk: Buffer): void {
    for (const frame of this.#framer.push(chunk)) {
      const slot: Slot = { reply: undefined, done: false };
      let result: MaybePromise<string | undefined>;
      try {
        result = this.#handle(frame);
      } catch {
        // The handler answers every refusal itself; a throw here is a bug: close rather than hang.
        this.#socket.destroy();
        return;
      }
      if (result instanceof Promise) {
        this.#queue.push(slot);
        result.then(
          (reply) => this.#fill(slot, reply),
          () => this.#socket.destroy(),
        );
      } else if (result !== undefined) {
        slot.reply = result;
        slot.done = true;
        this.#queue.push(slot);
      }
    }
    this.#scheduleFlush();
    if (this.#pending() >= MAX_IN_FLIGHT) this.#socket.pause();
  }

  #fill(slot: Slot, reply: string | undefined): void {
    slot.reply = reply;
    slot.done = true;
    this.#scheduleFlush();
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
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.done) {
      const reply = this.#queue[this.#head++]!.reply;
      if (reply !== undefined) out += `${reply}\r\n`;
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    if (out !== "" && !this.#socket.destroyed) {
      if (!this.#socket.write(out)) {
        // The client is not reading: stop reading it until its replies drain.
        this.#draining = true;
        this.#socket.pause();
      }
    }
    if (this.#stopping && this.#pending() === 0) this.#socket.end();
    else this.#resumeIfRoom();
  }

  #resumeIfRoom(): void {
    if (this.#socket.writableLength === 0) this.#draining = false;
    if (!this.#stopping && !this.#draining && this.#pending() < MAX_IN_FLIGHT) this.#socket.resume();
  }
}
