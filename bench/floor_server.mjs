// The least a Node server can do under the bench's load: `node bench/floor_server.mjs serve --config <file>`
// answers BC, AC and AD as the bank does, with nothing behind them (no ledger, no log, no checks beyond
// the command's name). FLOOR_SYNC=1 adds Redis' own durability model: each event-loop turn's records are
// appended to a file and fdatasynced on the loop before that turn's replies go out. FLOOR_LOG=1 adds the
// bank's per-command log line (the same JSON, into a 64 KiB buffer written out when full or every 100 ms,
// as src/log.ts does, without its rotation). Run beside the bank and Redis by bench/side_by_side.ts
// (bench/floor_durable.mjs and bench/floor_logged.mjs set the variables), it bounds what a bank built like
// this one (one event loop serving every client) can reach on the machine: a goal set against Redis that
// this server misses is out of reach of any change short of another architecture.
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

const config = JSON.parse(readFileSync(process.argv[process.argv.indexOf("--config") + 1], "utf8"));
const code = config.host;
const durable = process.env.FLOOR_SYNC === "1";
mkdirSync(dirname(config.data), { recursive: true });
const journal = durable ? openSync(join(dirname(config.data), "floor.journal"), "a") : undefined;
const log = process.env.FLOOR_LOG === "1" ? openSync(join(dirname(config.data), "floor.log"), "a") : undefined;
const logBuffer = Buffer.alloc(256 * 1024);
let logUsed = 0;
let logTimer;
function flushLog() {
  clearTimeout(logTimer);
  logTimer = undefined;
  for (let offset = 0; offset < logUsed;) offset += writeSync(log, logBuffer, offset, logUsed - offset);
  logUsed = 0;
}
function logLine(peer, request, reply, ms) {
  const line = `{"@timestamp":"${new Date().toISOString()}","level":"info","logger":"bank.server","process":"serve","pid":${process.pid},` +
    `"message":"command","event":"command","peer":${peer},"request":${JSON.stringify(request)},"reply":${JSON.stringify(reply)},"ms":${ms}}\n`;
  logUsed += logBuffer.write(line, logUsed);
  if (logUsed >= 64 * 1024) flushLog();
  else logTimer ??= setTimeout(flushLog, 100);
}

let nextAccount = 10000;
/** Records and replies of this turn, flushed together once the turn's input is read. */
let records = [];
let pending = [];
let flushScheduled = false;

function flush() {
  flushScheduled = false;
  if (journal !== undefined && records.length > 0) {
    writeSync(journal, records.join(""));
    fdatasyncSync(journal);
  }
  records = [];
  const replies = pending;
  pending = [];
  // One write per connection per turn, as the bank and Redis do.
  const bySocket = new Map();
  for (const [socket, line, request, started] of replies) {
    bySocket.set(socket, (bySocket.get(socket) ?? "") + line);
    if (log !== undefined) logLine(socket.peerJson, request, line.slice(0, -2), Math.round(performance.now() - started));
  }
  for (const [socket, text] of bySocket) if (!socket.destroyed) socket.write(text);
}

function answer(socket, line) {
  const name = line.slice(0, 2);
  let reply;
  if (name === "AD") {
    reply = "AD\r\n";
    records.push(`${line}\n`);
  } else if (name === "AC") {
    reply = `AC ${nextAccount++}/${code}\r\n`;
    records.push(`${line}\n`);
  } else if (name === "BC") reply = `BC ${code}\r\n`;
  else reply = "ER unknown command\r\n";
  pending.push([socket, reply, line, performance.now()]);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

const server = createServer((socket) => {
  let buffered = "";
  socket.peerJson = JSON.stringify({ address: socket.remoteAddress, port: socket.remotePort });
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      answer(socket, buffered.slice(0, end).replace(/\r$/, ""));
      buffered = buffered.slice(end + 1);
    }
  });
  socket.on("error", () => {});
});
server.listen(config.port, config.host);
process.on("SIGTERM", () => {
  if (journal !== undefined) closeSync(journal);
  if (log !== undefined) flushLog();
  process.exit(0);
});
