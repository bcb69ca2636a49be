#!/usr/bin/env node
process.stderr.write("runc-ts: not yet implemented\n");
process.exit(1);
