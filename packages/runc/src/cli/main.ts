#!/usr/bin/env node
// runc-ts: runc's command line. Hand-rolled parsing and lazy imports keep start-up short;
// `runc-ts init` (the container's pid 1 before execve) loads only what it needs.

const argv = process.argv.slice(2);

if (argv[0] === "init") {
  const { initMain } = await import("../init/main.js");
  await initMain(argv);
} else {
  const { runCli } = await import("./commands.js");
  process.exit(await runCli(argv));
}
