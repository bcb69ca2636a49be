#!/usr/bin/env node
// The entry of `runc-ts init` alone (bundled as runc-ts-init.js): what create, run and exec
// spawn, without the rest of the CLI. Arguments as for `runc-ts init …`.
import { initMain } from "./main.js";

await initMain(process.argv.slice(2));
