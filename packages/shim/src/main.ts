#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { FlagError, parseFlags, type ShimFlags } from "./flags.js";
import { createLogger } from "./log.js";
import { SHIM_VERSION } from "./version.js";

const NAME = "containerd-shim-ts-v2";

// The shim makes no TLS connections; extra CA certificates only slow every Node it starts.
delete process.env.NODE_EXTRA_CA_CERTS;

async function main(argv: string[]): Promise<number> {
  let flags: ShimFlags;
  try {
    flags = parseFlags(argv);
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(
        `${e.message}\nUsage of ${NAME}: -namespace NS -id ID -address ADDR [-publish-binary P] [-bundle B] [-socket S] [-debug] [start|delete]\n`,
      );
      return 2;
    }
    throw e;
  }
  if (flags.version) {
    process.stdout.write(
      `${NAME}:\n  Version:  ${SHIM_VERSION}\n  Node version: ${process.version}\n\n`,
    );
    return 0;
  }
  // containerd 2.x also passes these in the environment
  flags.namespace ||= process.env.NAMESPACE ?? "";
  flags.address ||= process.env.GRPC_ADDRESS ?? "";
  if (!flags.namespace) throw new Error("shim namespace cannot be empty");
  const log = createLogger(flags.debug, {
    runtime: "io.containerd.ts.v2",
    namespace: flags.namespace,
  });
  switch (flags.action) {
    case "start": {
      const { startAction } = await import("./start.js");
      const address = await startAction(flags, fileURLToPath(import.meta.url));
      await new Promise<void>((r) => process.stdout.write(address, () => r()));
      return 0;
    }
    case "delete": {
      const [{ deleteAction }, { realSys }, { runcClientFactory }] = await Promise.all([
        import("./delete-action.js"),
        import("./sys.js"),
        import("./runtime.js"),
      ]);
      const bytes = await deleteAction(flags, realSys(), runcClientFactory, log);
      await new Promise<void>((r) => process.stdout.write(bytes, () => r()));
      return 0;
    }
    case "": {
      const [{ serve }, { realSys }, { runcClientFactory }] = await Promise.all([
        import("./serve.js"),
        import("./sys.js"),
        import("./runtime.js"),
      ]);
      await serve(flags, realSys(), runcClientFactory, log);
      return -1;
    }
    default:
      throw new Error(`unknown action ${JSON.stringify(flags.action)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // exit at once: closing the start action's listener would unlink the socket it hands over
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${NAME}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
