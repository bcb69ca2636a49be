#!/usr/bin/env node
// runc-ts: runc's command line. Hand-rolled parsing and lazy imports keep start-up short;
// `runc-ts init` (the container's pid 1 before execve) loads only what it needs. No top-level
// await: scripts/bundle.mjs bundles this entry as CommonJS.

const argv = process.argv.slice(2);

if (argv[0] === "init") {
  void import("../init/main.js").then(({ initMain }) => initMain(argv));
} else {
  void import("./commands.js").then(async ({ runCli }) => process.exit(await runCli(argv)));
}
