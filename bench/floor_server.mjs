// The least a Node server can do under the bench's load: `node bench/floor_server.mjs serve --config <file>`
// answers BC, AC and AD as the bank does, with nothing behind them (no ledger, no log, no checks beyond
// the command's name). FLOOR_SYNC=1 adds Redis' own durability model: each event-loop turn's records are
// appended to a file and fdatasynced on the loop before that turn's replies go out. Compared with the bank
// and Redis by bench/side_by_side.ts, it gives the ceiling of any Node design on this machine: where it is
// itself below a goal set against Redis, no change to the bank's code can reach that goal.
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { mkdirSync } from "node:fs";

const config = JSON.parse(readFileSync(process.argv[process.argv.indexOf("--config") + 1], "utf8"));
const code = config.host;
const durable = process.env.FLOOR_SYNC === "1";
mkdirSync(dirname(config.data), { recursive: true });
const journal = durable ? openSync(join(dirname(config.data), "floor.journal"), "a") : undefined;

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
  for (const [socket, line] of replies) bySocket.set(socket, (bySocket.get(socket) ?? "") + line);
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
  pending.push([socket, reply]);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

const server = createServer((socket) => {
  let buffered = "";
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
  process.exit(0);
});
