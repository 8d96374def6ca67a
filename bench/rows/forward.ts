/** `AB` latency: direct, direct on a new connection each, and forwarded through another bank. */
import { LineClient, pipeline, Samples } from "../loadgen.ts";
import { BankNode } from "../procs.ts";
import { type Bench, f2, f3, table } from "../context.ts";

const AB_REQUESTS = 2000;

interface Latency {
  count: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

function summary(samples: Samples, count: number, errors: number): Latency {
  const s = samples.summary();
  return { count, errors, p50Ms: s.p50, p99Ms: s.p99, meanMs: s.mean, maxMs: s.max };
}

async function sequentialLatency(client: LineClient, line: string, expect: string, count: number): Promise<Latency> {
  for (let i = 0; i < 50; i++) await client.request(line); // warm-up (and the forwarder's port probe)
  const samples = new Samples();
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const reply = await client.request(line);
    samples.push(performance.now() - t);
    if (reply !== expect) bad++;
  }
  return summary(samples, count, bad);
}

/** Like sequentialLatency, but each request on a new connection (connect + request + close), as a forward does. */
async function freshConnectionLatency(bank: BankNode, line: string, expect: string, count: number): Promise<Latency> {
  const samples = new Samples();
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const client = await LineClient.connect(bank.host, bank.port);
    const reply = await client.request(line);
    client.close();
    samples.push(performance.now() - t);
    if (reply !== expect) bad++;
  }
  return summary(samples, count, bad);
}

/** Measures and reports AB direct vs forwarded, with `owner` holding the account and `forwarder` in front. */
export async function forwardSection(bench: Bench, owner: BankNode, forwarder: BankNode): Promise<void> {
  const [reply] = await pipeline(owner.host, owner.port, ["AC"]);
  const account = /^AC (\d{5})\//.exec(reply ?? "")?.[1];
  if (account === undefined) throw new Error(`AC answered ${JSON.stringify(reply)}`);
  await pipeline(owner.host, owner.port, [`AD ${account}/${owner.code} 100`]);
  const line = `AB ${account}/${owner.code}`;
  const direct = await LineClient.connect(owner.host, owner.port);
  const viaForward = await LineClient.connect(forwarder.host, forwarder.port);
  let ab;
  try {
    bench.progress(`AB direct ×${AB_REQUESTS}`);
    const d = await sequentialLatency(direct, line, "AB 100", AB_REQUESTS);
    bench.progress(`AB direct, new connection each ×${AB_REQUESTS}`);
    const fresh = await freshConnectionLatency(owner, line, "AB 100", AB_REQUESTS);
    bench.progress(`AB forwarded ×${AB_REQUESTS}`);
    const fw = await sequentialLatency(viaForward, line, "AB 100", AB_REQUESTS);
    ab = { direct: d, directNewConnection: fresh, forwarded: fw };
  } finally {
    direct.close();
    viaForward.close();
  }
  bench.results.ab = ab;
  const row = (name: string, l: Latency) => [name, f3(l.p50Ms), f3(l.p99Ms), f3(l.meanMs), f2(l.maxMs), String(l.errors)];
  bench.say(`AB latency, ${AB_REQUESTS} sequential requests each (client on one connection unless said):`);
  bench.say(table(
    ["path", "p50 ms", "p99 ms", "mean ms", "max ms", "errors"],
    [
      row("direct  (client → .52)", ab.direct),
      row("direct, new connection per request", ab.directNewConnection),
      row("forward (client → .51 → .52)", ab.forwarded),
    ],
    [false, true, true, true, true, true],
  ));
  bench.say(`forwarding adds ${f3(ab.forwarded.p50Ms - ab.direct.p50Ms)} ms at p50`);
  bench.say();
}
