/** Real processes in the states a data lock must judge: running, exited, and a zombie its parent never reaps. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { processIdentity } from "../../src/platform.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `sleep 60` that runs until killed. */
export async function liveChild(): Promise<ChildProcess & { pid: number }> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  return child as ChildProcess & { pid: number };
}

/** The lock identity of a process that ran, then exited and was reaped. */
export async function exitedChild(): Promise<string> {
  const child = await liveChild();
  const identity = processIdentity(child.pid);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill();
  await exited;
  return identity;
}

/** The state letter of /proc/<pid>/stat (R, S, Z …), or undefined once the process is gone. */
export function procState(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** A process whose parent never reaps it: after kill -9 it stays a zombie until `end()`. */
export interface UnreapedChild {
  readonly pid: number;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  state(): string | undefined;
  /** kill -9, then waits until it is a zombie. */
  kill9(): Promise<void>;
  /** Ends the parent, so init reaps the zombie. */
  end(): void;
}

/**
 * Runs `command` (default `sleep 60`) as the child of a shell that then turns into `sleep 600` with
 * `exec`: sleep never calls wait(), so a killed child stays a zombie, as under a parent that is busy or hung.
 */
export async function unreapedChild(command: string[] = ["sleep", "60"], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<UnreapedChild> {
  const parent = spawn("sh", ["-c", '"$@" 2>&1 & echo "pid $!"; exec sleep 600', "sh", ...command], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "ignore"],
  });
  let text = "";
  parent.stdout!.on("data", (d) => (text += d));
  for (let i = 0; !/^pid \d+\n/.test(text); i++) {
    if (i > 200) throw new Error(`no pid from the shell: ${text}`);
    await sleep(10);
  }
  const pid = Number(/^pid (\d+)/.exec(text)![1]);
  return {
    pid,
    output: () => text.replace(/^pid \d+\n/, ""),
    state: () => procState(pid),
    async kill9() {
      process.kill(pid, "SIGKILL");
      for (let i = 0; procState(pid) !== "Z"; i++) {
        if (i > 500) throw new Error(`process ${pid} did not become a zombie: ${procState(pid)}`);
        await sleep(10);
      }
    },
    end: () => void parent.kill("SIGKILL"),
  };
}
