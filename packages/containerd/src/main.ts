#!/usr/bin/env node
process.stderr.write("containerd-ts: not yet implemented\n");
process.exit(1);
