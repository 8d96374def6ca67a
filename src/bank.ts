/** Assembles a running bank from a Config: ledger, peers, planner and server. */
import { statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { DurableLedger } from "./ledger/ledger.ts";
import { BankDirectory } from "./peers/directory.ts";
import { type ScannedBank, type ScanResult, scanNetwork } from "./peers/scan.ts";
import type { RobberyPlan } from "./plan/robbery.ts";
import { PlanThread, type TimedPlan } from "./plan/plan_thread.ts";
import { BankError } from "./protocol/messages.ts";
import { BankServer } from "./server/server.ts";
import { Activity } from "./monitor/activity.ts";
import { MonitorServer } from "./monitor/monitor_server.ts";
import { logger } from "./log.ts";

const log = logger("plan");

/**
 * The least time a plan is given, even when the scan left less of `timeout`: the RP is late by then
 * anyway, and a loaded machine can take a few hundred ms to plan even a small network exactly.
 */
export const MIN_PLAN_MS = 500;

/** A started bank. */
export interface RunningBank {
  readonly ledger: DurableLedger;
  readonly server: BankServer;
  /** Stops accepting, finishes in-flight commands, writes the final snapshot. */
  stop(): Promise<void>;
}

/** The address we connect to other banks from: our listening address, unless that is every address. */
function localAddress(config: Config): string | undefined {
  return config.host === "0.0.0.0" ? undefined : config.host;
}

/**
 * Every address an account may name and still be ours: the bank code and the host, and when listening on
 * every address, 0.0.0.0 and each local IPv4 address. Dialling one of them would only reach ourselves.
 */
export function ownAddresses(config: Config): Set<string> {
  const own = new Set<string>([config.bankCode, config.host]);
  if (config.host === "0.0.0.0") {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) if (a.family === "IPv4") own.add(a.address);
    }
  }
  return own;
}

/** How the scan of the network is set up, from the config. */
export function scanOptions(config: Config) {
  return {
    subnet: config.scanSubnet,
    concurrency: config.scanProcesses,
    probeTimeoutMs: config.scanTimeoutMs,
    timeoutMs: config.timeoutMs,
    localAddress: localAddress(config),
  };
}

/** One scan of the network and the plans made on it, shared by the RPs that arrive meanwhile. */
interface Round {
  readonly scan: Promise<ScanResult>;
  readonly plans: Map<bigint, Promise<TimedPlan<ScannedBank>>>;
  /** RPs waiting on this round; the next RP after the last one starts a new round. */
  pending: number;
}

/** Opens the ledger and starts serving. */
export async function startBank(config: Config): Promise<RunningBank> {
  if (statSync(config.data, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`the data file ${config.data} is a folder; name a file in it, such as ${join(config.data, "bank.db")}`);
  }
  // Started before anything else: its threads boot while the ledger opens (it does not keep the process alive).
  const planner = new PlanThread();
  const ledger = await DurableLedger.open({ data: config.data, snapshotIntervalMs: config.snapshotIntervalMs }).catch((error: unknown) => {
    planner.close();
    throw error;
  });
  // Recorded only when a monitor page is served: without one the hooks are absent, not no-ops.
  const activity = config.monitor === undefined ? undefined : new Activity(config.bankCode);
  const directory = new BankDirectory({
    timeoutMs: config.timeoutMs,
    localAddress: localAddress(config),
    self: { code: config.bankCode, port: config.port },
    onContact: activity?.contact,
  });
  const scan = async (): Promise<ScanResult> => {
    const self = { code: config.bankCode, port: config.port, amount: await ledger.total(), clients: BigInt(await ledger.count()) };
    const result = await scanNetwork({ ...scanOptions(config), self });
    activity?.scanned(result);
    return result;
  };
  // RPs that arrive while one is scanning or planning join it: one scan, and one search per target.
  let round: Round | undefined;
  const plan = async (target: bigint): Promise<RobberyPlan<ScannedBank> & { leftOut: number }> => {
    const deadline = performance.now() + config.timeoutMs;
    const joined = (round ??= { scan: scan(), plans: new Map(), pending: 0 });
    joined.pending++;
    try {
      const scanned = await joined.scan.catch((error: unknown) => {
        throw new BankError("scan_failed", { text: error instanceof Error ? error.message : String(error) });
      });
      let planned = joined.plans.get(target);
      const shared = planned !== undefined;
      if (planned === undefined) {
        planned = planner.plan(scanned.banks, target, Math.max(deadline - performance.now(), MIN_PLAN_MS));
        joined.plans.set(target, planned);
      }
      const { plan, ms } = await planned;
      const exact = plan.reachable ? plan.exact : true;
      // Not exact means the search ran out of time and the plan may not be the best: worth a warning.
      log[exact ? "info" : "warn"]("RP {target}: {banks} banks scanned in {scan_ms} ms, planned in {plan_ms} ms (exact: {exact})", {
        event: "plan",
        target: String(target),
        banks: scanned.banks.length,
        scan_ms: scanned.ms,
        plan_ms: Math.round(ms),
        exact,
        // true: this RP took the plan another RP for the same target was already making
        shared,
      });
      return { ...plan, leftOut: scanned.problems.length };
    } finally {
      if (--joined.pending === 0 && round === joined) round = undefined;
    }
  };
  const server = new BankServer(
    {
      host: config.host,
      port: config.port,
      clientTimeoutMs: config.clientTimeoutMs,
      maxConnections: config.maxConnections,
      language: config.language,
      onCommand: activity?.command,
    },
    {
      bankCode: config.bankCode,
      ownAddresses: ownAddresses(config),
      language: config.language,
      ledger,
      forward: (bank, line) => directory.forward(bank, line),
      plan,
    },
  );
  let monitor: MonitorServer | undefined;
  try {
    await server.listen();
    if (activity !== undefined && config.monitor !== undefined) {
      const source = { bankCode: config.bankCode, listen: `${config.host}:${config.port}`, activity, ledger, plan };
      monitor = await MonitorServer.start(config.monitor, source);
    }
  } catch (error) {
    await server.close();
    planner.close();
    await ledger.shutdown();
    throw error;
  }
  return {
    ledger,
    server,
    async stop() {
      await monitor?.close();
      await server.close();
      planner.close();
      await ledger.shutdown();
    },
  };
}
