/** Assembles a running bank from a Config: ledger, peers, planner and server. */
import { statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { DurableLedger } from "./ledger/ledger.ts";
import { BankDirectory } from "./peers/directory.ts";
import { type ScanResult, scanNetwork } from "./peers/scan.ts";
import { planRobbery } from "./plan/robbery.ts";
import { BankError } from "./protocol/messages.ts";
import { BankServer } from "./server/server.ts";
import { logger } from "./log.ts";

const log = logger("plan");

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

/** Opens the ledger and starts serving. */
export async function startBank(config: Config): Promise<RunningBank> {
  if (statSync(config.data, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`the data file ${config.data} is a folder; name a file in it, such as ${join(config.data, "bank.db")}`);
  }
  const ledger = await DurableLedger.open({ data: config.data, snapshotIntervalMs: config.snapshotIntervalMs });
  const directory = new BankDirectory({
    timeoutMs: config.timeoutMs,
    localAddress: localAddress(config),
    self: { code: config.bankCode, port: config.port },
  });
  // Concurrent RPs share one scan rather than flooding the subnet once each.
  let scanning: Promise<ScanResult> | undefined;
  const scan = async (): Promise<ScanResult> => {
    const self = { code: config.bankCode, port: config.port, amount: await ledger.total(), clients: BigInt(await ledger.count()) };
    return scanNetwork({ ...scanOptions(config), self });
  };
  const server = new BankServer(
    {
      host: config.host,
      port: config.port,
      clientTimeoutMs: config.clientTimeoutMs,
      maxConnections: config.maxConnections,
      language: config.language,
    },
    {
      bankCode: config.bankCode,
      ownAddresses: ownAddresses(config),
      language: config.language,
      ledger,
      forward: (bank, line) => directory.forward(bank, line),
      plan: async (target) => {
        scanning ??= scan().finally(() => (scanning = undefined));
        const result = await scanning.catch((error: unknown) => {
          throw new BankError("scan_failed", { text: error instanceof Error ? error.message : String(error) });
        });
        const plan = planRobbery(result.banks, target);
        if (plan.reachable && !plan.exact) {
          log.warn("RP {target}: the search hit its time limit; the best plan found is given, not proven optimal", {
            event: "plan_not_exact",
            target: String(target),
            banks: result.banks.length,
          });
        }
        return { ...plan, leftOut: result.problems.length };
      },
    },
  );
  try {
    await server.listen();
  } catch (error) {
    await ledger.shutdown();
    throw error;
  }
  return {
    ledger,
    server,
    async stop() {
      await server.close();
      await ledger.shutdown();
    },
  };
}
