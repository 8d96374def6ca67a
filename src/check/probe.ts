/**
 * The sockets of `bank check`: one connection driven byte for byte as a check asks (split writes, several
 * commands in one write, raw line ends), and a silent bank that accepts connections and never answers.
 * Plain request/reply exchanges go through peers/client.ts instead.
 */
import { Buffer } from "node:buffer";
import { connect, createServer, type Socket } from "node:net";
import { BANK_PORTS, MAX_REPLY_BYTES } from "../peers/client.ts";
import { replyLines } from "./bytes.ts";
import type { Exchange, ExchangeResult } from "./types.ts";

/** Timing of one raw connection. */
export interface ProbeTiming {
  /** The whole connection: connect, every turn and its replies. */
  deadlineMs: number;
  /** Between the writes of one turn, so they leave (and are read) as separate packets. */
  gapMs: number;
  /** After the last awaited reply, how long to keep listening for bytes that should not come. */
  settleMs: number;
}

/** What one connection gave back, and who the bank saw calling. */
export type ProbeResult = Omit<ExchangeResult, "silentConnections"> & { readonly localAddress: string | undefined };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs one exchange's turns on a fresh connection to host:port; never rejects, never outlives its deadline. */
export function probe(host: string, port: number, exchange: Exchange, timing: ProbeTiming): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let connected = false;
    let closed = false;
    let done = false;
    let repliedAt: number | undefined;
    let wake: (() => void) | undefined;
    const socket: Socket = connect({ host, port });
    const received = () => Buffer.concat(chunks);
    const count = () => replyLines(received(), closed).length;

    const finish = (outcome: ExchangeResult["outcome"]): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      wake?.();
      const localAddress = socket.localAddress;
      socket.destroy();
      const bytes = received();
      resolve({
        exchange,
        received: bytes,
        lines: replyLines(bytes, closed),
        outcome,
        ms: (repliedAt ?? performance.now()) - started,
        localAddress,
      });
    };
    // A connect that never completes is a timeout too: nothing said the port is closed.
    const timer = setTimeout(() => finish("timeout"), timing.deadlineMs);

    const run = async (): Promise<void> => {
      let awaited = 0;
      for (const turn of exchange.turns) {
        for (const [i, data] of turn.writes.entries()) {
          if (i > 0) await sleep(timing.gapMs);
          if (done) return;
          if (closed) return finish("closed");
          socket.write(data);
        }
        awaited += turn.replies;
        while (!done && !closed && count() < awaited) await new Promise<void>((r) => (wake = r));
        if (done) return;
        if (count() < awaited) return finish("closed");
      }
      repliedAt = performance.now();
      // A second reply to one command, or the extra \n of `\r\r\n\n`, comes right after the first.
      await sleep(timing.settleMs);
      finish("replied");
    };

    socket.on("connect", () => {
      connected = true;
      socket.setNoDelay(true);
      void run();
    });
    socket.on("data", (chunk: Uint8Array) => {
      // A bank streaming without end is cut off: what came so far is enough to judge it.
      if (size + chunk.length > MAX_REPLY_BYTES) return finish("replied");
      chunks.push(chunk);
      size += chunk.length;
      wake?.();
    });
    const onClose = () => {
      closed = true;
      wake?.();
    };
    socket.on("end", onClose);
    socket.on("close", onClose);
    socket.on("error", () => {
      if (!connected) finish("refused");
      else onClose();
    });
  });
}

/** A bank that accepts every connection and never answers: what a forward to it must survive. */
export interface SilentBank {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** Listens on `host` on the first free bank port (highest first); undefined when none is free or the address is not ours. */
export async function startSilentBank(host: string): Promise<SilentBank | undefined> {
  for (const port of [...BANK_PORTS].reverse()) {
    const sockets = new Set<Socket>();
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen({ host, port, exclusive: true }, () => resolve(true));
    });
    if (!listening) continue;
    return {
      host,
      port,
      accepted: () => accepted,
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }
  return undefined;
}
