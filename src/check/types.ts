/** The vocabulary of `bank check`: checks, the exchanges they ask for, what came back, verdicts. */
import type { ReplyLine } from "./bytes.ts";

/** The report's groups, in the order they are printed. */
export const GROUPS = ["framing", "commands", "values and limits", "errors", "forwarding", "timeouts"] as const;

/** A group of checks. */
export type Group = (typeof GROUPS)[number];

/** A check's outcome: `warn` is a deviation the protocol tolerates, `skip` a check that could not run here. */
export type Status = "pass" | "fail" | "warn" | "skip";

/** One step on a connection: what is written (each item one write, `gapMs` apart), then how many reply lines are awaited. */
export interface Turn {
  readonly writes: readonly (string | Uint8Array)[];
  readonly replies: number;
}

/** One connection: to the bank checked, or straight to the `--forward` bank. */
export interface Exchange {
  readonly to: "bank" | "other";
  readonly turns: readonly Turn[];
  /** Deadline of the whole connection; default the `timeout` setting. */
  readonly deadlineMs?: number;
}

/** What one connection gave back. */
export interface ExchangeResult {
  readonly exchange: Exchange;
  /** Every byte received, in order. */
  readonly received: Uint8Array;
  readonly lines: readonly ReplyLine[];
  /** `replied`: every awaited line came; otherwise why not. */
  readonly outcome: "replied" | "timeout" | "closed" | "refused";
  readonly ms: number;
  /** Connections the silent bank accepted meanwhile: did the bank dial it? */
  readonly silentConnections: number;
}

/** What the checks know about the bank (and what earlier checks learned). */
export interface Context {
  /** The address dialled. */
  readonly host: string;
  /** The address accounts are written with: the bank's BC when that is an IPv4 address, else `host`. */
  readonly code: string;
  /** Our end of the connection to the bank: who the bank sees calling. */
  readonly localAddress: string;
  readonly write: boolean;
  /** The `--forward` bank and the port it answered on. */
  readonly other?: { readonly code: string; readonly port: number };
  /** An account opened at the other bank for the forwarding checks (`--write --forward`). */
  readonly otherAccount?: string;
  /** The address of a bank on our side that accepts connections and never answers; absent when none could listen. */
  readonly silent?: string;
  /** BA before the test account got any money (learned by the `ba` check). */
  readonly total?: bigint;
  /** The test account opened by `AC` (`--write`), as `<account>/<ip>`. */
  readonly account?: string;
  /** Its balance, as its last AB said. */
  readonly balance?: bigint;
  readonly timeoutMs: number;
  readonly scanTimeoutMs: number;
}

/** A check's judgement of its exchanges. */
export interface Verdict {
  readonly status: Exclude<Status, "skip">;
  /** Why, when it is not a plain pass (e.g. "2 replies to one command"). */
  readonly note?: string;
  /** Facts for the checks after this one. */
  readonly learned?: Partial<Pick<Context, "total" | "account" | "balance">>;
}

/** One rule of the protocol, checked by talking to the bank. Pure: the runner does the talking. */
export interface Check {
  readonly id: string;
  readonly group: Group;
  /** What is checked, in a few words. */
  readonly title: string;
  /** The protocol rule, as the project's protocol reference words it. */
  readonly rule: string;
  /** Why it matters, in a sentence a student understands. */
  readonly why: string;
  /** Expected reply, in the protocol's notation. */
  readonly expected: string;
  /** A failed required check makes `bank check` exit 1; the others only warn. */
  readonly required: boolean;
  /** The connections to make, or why the check cannot run here. */
  plan(ctx: Context): readonly Exchange[] | { readonly skip: string };
  judge(results: readonly ExchangeResult[], ctx: Context): Verdict;
}

/** A check as it ran. */
export interface CheckResult {
  readonly check: Check;
  readonly status: Status;
  readonly note?: string;
  readonly results: readonly ExchangeResult[];
}
