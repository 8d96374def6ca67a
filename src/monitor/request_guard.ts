/** Which requests the read-only monitor answers at all: pure rules, no sockets. */
import { networkInterfaces } from "node:os";

/** Why a request is refused before routing, with the HTTP status and the text sent back. */
export interface Refusal {
  readonly status: 403 | 405;
  readonly text: string;
}

/**
 * The Host header values that name this monitor: its address and port, `localhost` when it listens on
 * 127.0.0.1, every local IPv4 address when it listens on all of them. Any other name may be a DNS
 * rebinding attack (a foreign site whose name was pointed at this address), so it is refused.
 */
export function ownHosts(host: string, port: number): Set<string> {
  const names = new Set<string>();
  if (host === "0.0.0.0") {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) if (a.family === "IPv4") names.add(a.address);
    }
  } else {
    names.add(host);
  }
  if (names.has("127.0.0.1")) names.add("localhost");
  return new Set([...names].map((name) => `${name}:${port}`));
}

/** Refuses anything but GET and HEAD, and any Host header that is not ours; undefined lets the request through. */
export function refusal(method: string | undefined, host: string | undefined, ownHosts: ReadonlySet<string>): Refusal | undefined {
  if (host === undefined || !ownHosts.has(host.toLowerCase())) {
    return { status: 403, text: `Host ${JSON.stringify(host ?? "")} is not this monitor's address; open it by its address.\n` };
  }
  if (method !== "GET" && method !== "HEAD") {
    return { status: 405, text: "The monitor is read-only: only GET and HEAD are allowed.\n" };
  }
  return undefined;
}
