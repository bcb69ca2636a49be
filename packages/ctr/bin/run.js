#!/usr/bin/env node
import { execute } from "@oclif/core";
import { canonicalTopic, hoistGlobalFlags, setHoistedGlobalFlags } from "../dist/global-argv.js";

// containerd#8558: `ctr-ts -n ns containers ls` and `ctr-ts containers ls -n ns` both work.
const { global, rest } = hoistGlobalFlags(process.argv.slice(2));
setHoistedGlobalFlags(global);
await execute({ dir: import.meta.url, args: canonicalTopic(rest) });
// sessions, ttys and timers must not keep a finished command alive
process.exit(process.exitCode ?? 0);
