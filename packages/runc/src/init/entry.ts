#!/usr/bin/env node
// The entry of `runc-ts init` alone (bundled as dist/bundle/runc-ts-init.cjs): what create, run
// and exec spawn, without the rest of the CLI. Arguments as for `runc-ts init …`. No top-level
// await: scripts/bundle.mjs bundles this entry as CommonJS.
import { initMain } from "./main.js";

void initMain(process.argv.slice(2));
