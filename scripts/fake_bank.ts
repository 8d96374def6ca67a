// Runs one of the tests' fake banks, breaking one protocol rule, to try `bank check` on (the README's
// broken-bank report comes from it). Usage: node --import tsx scripts/fake_bank.ts <127.x.y.z:port> [rule]
// Rules: see Break in tests/helpers/fake_bank.ts; none given means a bank that follows the protocol.
import process from "node:process";
import { type Break, startFakeBank } from "../tests/helpers/fake_bank.ts";

const [where = "", breaks] = process.argv.slice(2);
const [host = "", port = ""] = where.split(":");
await startFakeBank({ host, port: Number(port), breaks: breaks as Break | undefined, timeoutMs: 5000 });
process.stdout.write(`fake bank on ${host}:${port}${breaks ? `, breaking "${breaks}"` : ""}; Ctrl+C stops it\n`);
