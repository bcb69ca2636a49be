#!/usr/bin/env node
process.stderr.write("containerd-shim-ts-v2: not yet implemented\n");
process.exit(1);
