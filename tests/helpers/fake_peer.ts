/** A scripted fake bank for tests: listens on 127.x.y.z:65525–65535 and answers as each test tells it. */
import { createServer, type Socket } from "node:net";

/**
 * What the fake sends for one received line: a string is sent with `\r\n`; null sends nothing (the
 * accept-and-never-answer bank); an object sends `writes` as separate writes, `gapMs` apart, after
 * `delayMs`, then closes the connection if `close` is set.
 */
export type FakeReply =
  | string
  | null
  | { writes: readonly (string | Uint8Array)[]; delayMs?: number; gapMs?: number; close?: boolean };

/** How a fake peer behaves. */
export interface FakePeerOptions {
  /** Must be in 127.0.0.0/8: tests never touch a real network. */
  host: string;
  /** Must be 65525–65535. */
  port: number;
  /** The reply to one received line (without its line end, untrimmed). */
  respond: (line: string) => FakeReply;
  /** Like the well-known bank that never answers an LF-only line: such lines are recorded but ignored. */
  crlfOnly?: boolean;
}

/** A running fake peer. */
export interface FakePeer {
  /** Every line received, in order, with its line end exactly as it arrived (e.g. `AD 10001/… 5\r\n`). */
  readonly received: string[];
  /** Every chunk as it was read from the socket: a request sent as one write arrives as one chunk on loopback. */
  readonly reads: string[];
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Starts a fake peer; resolves once it listens. */
export async function startFakePeer(options: FakePeerOptions): Promise<FakePeer> {
  const { host, port } = options;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new RangeError(`fake peers live on 127.0.0.0/8 only, not ${host}`);
  if (!Number.isInteger(port) || port < 65525 || port > 65535) throw new RangeError(`fake peers use ports 65525–65535 only, not ${port}`);
  const received: string[] = [];
  const reads: string[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let connections = 0;
  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const send = (socket: Socket, reply: FakeReply): void => {
    if (reply === null) return;
    if (typeof reply === "string") {
      socket.write(`${reply}\r\n`);
      return;
    }
    const { writes, delayMs = 0, gapMs = 0, close = false } = reply;
    const step = (i: number): void => {
      if (socket.destroyed) return;
      if (i === writes.length) {
        if (close) socket.end();
        return;
      }
      socket.write(writes[i]!);
      // Waiting between writes makes them arrive as separate TCP segments, as a slow bank's would.
      later(gapMs, () => step(i + 1));
    };
    later(delayMs, () => step(0));
  };

  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {
      // The client under test drops connections abruptly (it does not wait for extra bytes): expected.
    });
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      reads.push(chunk);
      buffer += chunk;
      for (let lf = buffer.indexOf("\n"); lf !== -1; lf = buffer.indexOf("\n")) {
        const raw = buffer.slice(0, lf + 1);
        buffer = buffer.slice(lf + 1);
        received.push(raw);
        if (options.crlfOnly === true && !raw.endsWith("\r\n")) continue;
        send(socket, options.respond(raw.replace(/\r?\n$/, "")));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    received,
    reads,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A well-behaved bank's replies: BC names `code` (the dialled address unless told otherwise), BA and BN give totals. */
export function bankReplies(bank: { code: string; amount?: bigint | string; clients?: bigint | string; lineEnd?: string }): (line: string) => FakeReply {
  const end = bank.lineEnd ?? "\r\n";
  const answer = (text: string): FakeReply => ({ writes: [text + end] });
  return (line) => {
    const code = line.trim().split(/\s+/)[0]?.toUpperCase();
    if (code === "BC") return answer(`BC ${bank.code}`);
    if (code === "BA") return answer(`BA ${bank.amount ?? 0n}`);
    if (code === "BN") return answer(`BN ${bank.clients ?? 0n}`);
    return answer("ER Unknown command.");
  };
}
