// Runs the node:test files under the given folders (default: tests/) on Node, through tsx.
// Node 20's test runner takes no globs, hence this list. Usage: node scripts/test.mjs [folder|file …]
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function testFiles(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? testFiles(join(path, e.name)) : e.name.endsWith(".test.ts") ? [join(path, e.name)] : []))
    .sort();
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ["tests"]).flatMap(testFiles);
const { status } = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], {
  stdio: "inherit",
});
process.exit(status ?? 1);
