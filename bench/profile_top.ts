/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, and
 * self time per source module. Functions in the esbuild bundle are traced back to their source file
 * through the `// src/…` comments esbuild leaves at the start of every module.
 *
 * Usage: node --import tsx bench/profile_top.ts <file.cpuprofile | dir> [top=25]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The parts of a .cpuprofile this reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of the profile. */
export interface ProfileRow {
  /** `name (module:line)`. */
  readonly name: string;
  /** The source module it belongs to (`src/server/server.ts`, `node:net`, `sql.js (wasm)`, …). */
  readonly module: string;
  readonly selfMs: number;
  /** Self time as a share of all non-idle time. */
  readonly selfPct: number;
  /** Time with this function anywhere on the stack. */
  readonly totalMs: number;
  readonly totalPct: number;
  /** The caller that accounts for most of its self time (for native functions: who calls them). */
  readonly calledFrom: string | undefined;
}

/** The summary of a profile. */
export interface ProfileSummary {
  readonly wallMs: number;
  /** Sampled time outside `(idle)`. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: ProfileRow[];
  readonly modules: { module: string; selfMs: number; selfPct: number }[];
}

/** Maps a line of a bundle to the module esbuild put there, from its `// path` comments. */
function bundleModules(url: string): ((line: number) => string) | undefined {
  let text: string;
  try {
    text = readFileSync(url.startsWith("file:") ? fileURLToPath(url) : url, "utf8");
  } catch {
    return undefined;
  }
  const starts: { line: number; module: string }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^\/\/ (\S+\.(?:[cm]?[jt]s|json))$/.exec(lines[i]!);
    if (match) starts.push({ line: i, module: match[1]!.replace(/^.*node_modules\//, "").replace(/^(\.\.\/)+/, "") });
  }
  if (starts.length === 0) return undefined;
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

function short(url: string): string {
  if (url === "") return "";
  if (url.startsWith("node:")) return url;
  if (url.startsWith("wasm://")) return "wasm";
  return url.replace(/^file:\/\//, "").replace(/^.*\/(?=[^/]+$)/, "");
}

/** Summarises a profile: top `top` functions by self time and the self time per module. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const mappers = new Map<string, ((line: number) => string) | undefined>();
  const moduleOf = (frame: CallFrame): string => {
    const { url } = frame;
    if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
    if (url.startsWith("wasm://")) return "sql.js (wasm)";
    if (url.startsWith("node:")) return url.replace(/^node:internal\//, "node:");
    if (!mappers.has(url)) mappers.set(url, url.endsWith(".mjs") || url.endsWith(".js") ? bundleModules(url) : undefined);
    return mappers.get(url)?.(frame.lineNumber) ?? short(url);
  };
  const keyOf = (frame: CallFrame): string => {
    const name = frame.functionName || "(anonymous)";
    if (frame.url === "") return name;
    if (frame.url.startsWith("wasm://")) return `${name} (sql.js wasm)`;
    const module = moduleOf(frame);
    const file = short(frame.url);
    // In the bundle the line is the bundle's, not the source file's: name both.
    const where = module === file || module.startsWith("node:") ? `${module}:${frame.lineNumber + 1}` : `${module}, ${file}:${frame.lineNumber + 1}`;
    return `${name} (${where})`;
  };

  const { samples, timeDeltas } = profile;
  // Sample i lasts until sample i + 1; the last one gets the mean interval.
  const mean = samples.length > 1 ? (profile.endTime - profile.startTime) / samples.length : 0;
  const self = new Map<string, { ms: number; module: string }>();
  const total = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let idleMs = 0;
  let busyMs = 0;
  const seen = new Set<string>();
  for (let i = 0; i < samples.length; i++) {
    const ms = (i + 1 < timeDeltas.length ? timeDeltas[i + 1]! : mean) / 1000;
    const node = byId.get(samples[i]!);
    if (node === undefined) continue;
    const frame = node.callFrame;
    if (frame.functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const key = keyOf(frame);
    const entry = self.get(key) ?? { ms: 0, module: moduleOf(frame) };
    entry.ms += ms;
    self.set(key, entry);
    // The nearest caller in the program itself: past anonymous wrappers, native trampolines and node's internals.
    let callerId = parent.get(node.id);
    while (callerId !== undefined) {
      const f = byId.get(callerId)!.callFrame;
      if (f.url !== "" && !f.url.startsWith("node:") && f.functionName !== "" && keyOf(f) !== key) break;
      callerId = parent.get(callerId);
    }
    if (callerId !== undefined) {
      const perCaller = callers.get(key) ?? new Map<string, number>();
      const callerKey = keyOf(byId.get(callerId)!.callFrame);
      perCaller.set(callerKey, (perCaller.get(callerKey) ?? 0) + ms);
      callers.set(key, perCaller);
    }
    seen.clear();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.functionName === "(root)") continue;
      const k = keyOf(f);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  }
  const pct = (ms: number) => (busyMs > 0 ? (100 * ms) / busyMs : 0);
  const functions = [...self.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(([name, { ms, module }]) => ({
      name,
      module,
      selfMs: ms,
      selfPct: pct(ms),
      totalMs: total.get(name) ?? ms,
      totalPct: pct(total.get(name) ?? ms),
      calledFrom: [...(callers.get(name) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1])[0]?.[0],
    }));
  const modules = new Map<string, number>();
  for (const { ms, module } of self.values()) modules.set(module, (modules.get(module) ?? 0) + ms);
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs,
    idleMs,
    functions,
    modules: [...modules.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([module, ms]) => ({ module, selfMs: ms, selfPct: pct(ms) })),
  };
}

/** The summary as printable text. */
export function formatSummary(summary: ProfileSummary, modules = 15): string {
  const out: string[] = [];
  const f = (n: number, d = 0) => n.toFixed(d);
  out.push(
    `profile: ${f(summary.wallMs)} ms wall, ${f(summary.busyMs)} ms busy (${f((100 * summary.busyMs) / (summary.busyMs + summary.idleMs || 1), 1)}%), ${f(summary.idleMs)} ms idle`,
  );
  out.push(`top ${summary.functions.length} functions by self time (% of busy time):`);
  out.push(`   self ms  self%  total%  function (module:line)`);
  summary.functions.forEach((row, i) => {
    // Native functions and node's internals say little by themselves: name who calls them.
    const native = !row.name.includes("(") || row.module.startsWith("node:");
    const via = native && row.calledFrom !== undefined ? `  ← ${row.calledFrom}` : "";
    out.push(
      `${String(i + 1).padStart(2)} ${f(row.selfMs).padStart(6)} ${f(row.selfPct, 1).padStart(6)} ${f(row.totalPct, 1).padStart(7)}  ${row.name}${via}`,
    );
  });
  out.push(`self time by module:`);
  for (const m of summary.modules.slice(0, modules)) {
    out.push(`   ${f(m.selfMs).padStart(6)} ms ${f(m.selfPct, 1).padStart(5)}%  ${m.module}`);
  }
  return out.join("\n");
}

/** Reads a .cpuprofile file, or the newest one in a directory. */
export function readProfile(path: string): CpuProfile {
  let file = path;
  if (statSync(path).isDirectory()) {
    const found = readdirSync(path)
      .filter((name) => name.endsWith(".cpuprofile"))
      .map((name) => join(path, name))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (found.length === 0) throw new Error(`no .cpuprofile in ${path}`);
    file = found[0]!;
  }
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [path, top] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write("usage: node --import tsx bench/profile_top.ts <file.cpuprofile | dir> [top=25]\n");
    process.exit(2);
  }
  console.log(formatSummary(summarizeProfile(readProfile(path), top === undefined ? 25 : Number(top))));
}
