// Builds the two artifacts: dist/bank.mjs, one ESM file that runs on Node 20 and Deno with no
// node_modules beside it, and dist/bank, a Node single executable application (Linux x64).
import { execFileSync } from "node:child_process";
import { copyFileSync, chmodSync, writeFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const base = {
  bundle: true,
  platform: "node",
  // node20: esbuild 0.28 would otherwise emit Uint8Array.fromBase64, which Node 20 lacks.
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
};

// The planner's worker thread, bundled on its own into a string that the main bundle carries in place of
// src/plan/worker_start.ts: a worker started from a file would find no file inside the single executable.
// CommonJS, as Node and Deno both run an `eval: true` worker's code as a script with `require`.
const worker = await build({ ...base, entryPoints: ["src/plan/worker.ts"], format: "cjs", write: false });
const workerFromBundle = {
  name: "plan-worker",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]plan[\\/]worker_start\.ts$/ }, () => ({
      loader: "js",
      contents: [
        'import { Worker } from "node:worker_threads";',
        `const code = ${JSON.stringify(worker.outputFiles[0].text)};`,
        "export function startWorker() { return new Worker(code, { eval: true }); }",
      ].join("\n"),
    }));
  },
};

const common = {
  ...base,
  entryPoints: ["src/main.ts"],
  // The inline build carries the wasm inside, so no file is needed beside the bundle.
  alias: { "sql.js": "sql.js/dist/sql-wasm-inline.js" },
  plugins: [workerFromBundle],
};

await build({
  ...common,
  outfile: "dist/bank.mjs",
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
chmodSync("dist/bank.mjs", 0o755);

if (process.argv.includes("--no-binary")) process.exit(0);

// Single executable: a CommonJS bundle as the SEA blob, injected into a copy of this node binary.
await build({ ...common, outfile: "dist/bank.cjs", format: "cjs" });
writeFileSync(
  "dist/sea-config.json",
  JSON.stringify({ main: "dist/bank.cjs", output: "dist/bank.blob", disableExperimentalSEAWarning: true }),
);
execFileSync(process.execPath, ["--experimental-sea-config", "dist/sea-config.json"], { stdio: "inherit" });
copyFileSync(process.execPath, "dist/bank");
chmodSync("dist/bank", 0o755);
execFileSync(
  process.execPath,
  [
    "node_modules/postject/dist/cli.js",
    "dist/bank",
    "NODE_SEA_BLOB",
    "dist/bank.blob",
    "--sentinel-fuse",
    "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
  ],
  // postject prints harmless LIEF warnings about ELF note sections; show its output only when it fails.
  { stdio: "pipe" },
);
for (const f of ["dist/bank.cjs", "dist/bank.blob", "dist/sea-config.json"]) rmSync(f);
