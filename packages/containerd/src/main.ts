#!/usr/bin/env node
import { parseArgs } from "node:util";
import { kindOf, ErrorKind } from "@containerd-ts/errdefs";
import { resolveConfig } from "./config.js";
import { createLogger } from "./context.js";
import { Daemon } from "./server.js";
import { daemonVersion } from "./services/version/grpc.js";

const USAGE = `usage: containerd-ts [options]

  -a, --address PATH    gRPC socket (default /run/containerd-ts/containerd.sock)
      --root DIR        persistent data, meta.db (default /var/lib/containerd-ts)
      --state DIR       runtime state (default /run/containerd-ts)
  -c, --config FILE     TOML config (containerd layout: root, state, [grpc], [debug], [events])
  -l, --log-level LVL   trace, debug, info, warn, error (default info)
  -v, --version         print the version
  -h, --help            this text
`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        address: { type: "string", short: "a" },
        root: { type: "string" },
        state: { type: "string" },
        config: { type: "string", short: "c" },
        "log-level": { type: "string", short: "l" },
        version: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`containerd-ts: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    const v = daemonVersion();
    process.stdout.write(`containerd-ts ${v.version} ${v.revision}\n`);
    return 0;
  }
  const config = resolveConfig({
    address: args.address,
    root: args.root,
    state: args.state,
    config: args.config,
    logLevel: args["log-level"],
  });
  const log = createLogger(config.logLevel);
  const daemon = await Daemon.start(config, log);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      log.info("received signal", { signal: sig });
      resolve();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  await daemon.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const expected = kindOf(err) !== ErrorKind.Unknown;
    process.stderr.write(
      `containerd-ts: ${expected ? (err as Error).message : ((err as Error)?.stack ?? String(err))}\n`,
    );
    process.exit(1);
  },
);
