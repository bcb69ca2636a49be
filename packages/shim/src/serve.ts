import { rmSync } from "node:fs";
import { join } from "node:path";
import { Task } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { PR_SET_CHILD_SUBREAPER } from "@containerd-ts/sys";
import { TtrpcServer } from "@containerd-ts/ttrpc";
import { EventPublisher } from "./events/publisher.js";
import { EventSpool } from "./events/spool.js";
import { TtrpcForwarder } from "./events/forwarder.js";
import type { ShimFlags } from "./flags.js";
import type { Logger } from "./log.js";
import { readAddress, socketPath } from "./paths.js";
import { Reaper } from "./reaper.js";
import type { RuntimeFactory } from "./runtime.js";
import { TaskService } from "./service.js";
import type { ShimSys } from "./sys.js";
import { taskApi } from "./task-api.js";

/** How long a shutting-down shim keeps trying to deliver queued events. */
const FLUSH_ON_EXIT_MS = 5000;

/**
 * The long-running shim: child subreaper, ttrpc Task service on the inherited fd 3 (or on
 * -socket), events forwarded to TTRPC_ADDRESS; exits after a Shutdown that finds no container,
 * removing its socket.
 */
export async function serve(
  flags: ShimFlags,
  sys: ShimSys,
  factory: RuntimeFactory,
  log: Logger,
): Promise<void> {
  sys.prctl(PR_SET_CHILD_SUBREAPER, 1);
  const bundle = process.cwd();
  // read now: with grouping, this first bundle may be removed while the shim serves others
  const address = readAddress(join(bundle, "address"));
  const ttrpcAddress = process.env.TTRPC_ADDRESS ?? "";
  const spool = new EventSpool(join(bundle, "events.spool"));
  const publisher = new EventPublisher({
    namespace: flags.namespace,
    spool,
    forwarder: ttrpcAddress ? new TtrpcForwarder(ttrpcAddress) : undefined,
    onError: (err) =>
      log.warn("forward event", { error: (err as Error).message, pending: spool.size }),
  });
  const server = new TtrpcServer({
    onError: (err) => log.debug("ttrpc", { error: (err as Error)?.message }),
    checkPeer: (cred) => cred.uid === process.geteuid?.() && cred.gid === process.getegid?.(),
  });
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    reaper.stop();
    // the name goes first (open connections live on); Shutdown removed it already
    if (address) rmSync(socketPath(address), { force: true });
    await server.close().catch(() => undefined);
    const flushed = await publisher.flush(FLUSH_ON_EXIT_MS);
    if (!flushed) log.warn("exiting with undelivered events", { pending: spool.size });
    publisher.close();
    spool.close();
    if (flushed) rmSync(spool.path, { force: true });
    process.exit(0);
  };
  const service = new TaskService({
    namespace: flags.namespace,
    sys,
    runtimeFactory: factory,
    publisher,
    onShutdown: () => {
      if (address) rmSync(socketPath(address), { force: true });
      // after the Shutdown answer is written
      setImmediate(() => void exit());
    },
    log: (msg, err) => log.warn(msg, { error: (err as Error)?.message }),
  });
  const reaper = new Reaper(sys, (e) => service.handleExit(e));
  reaper.start();
  server.register(Task, taskApi(service));
  if (flags.socket) await server.listen(flags.socket, 0o600);
  else await server.serveFd(3);
  process.on("SIGTERM", () => void exit());
  process.on("SIGINT", () => void exit());
  process.on("SIGHUP", () => undefined);
  // the shim is not disposable: a bug in one call must not take every container's shim down
  process.on("uncaughtException", (err) => log.error("uncaught exception", err));
  process.on("unhandledRejection", (err) => log.error("unhandled rejection", err));
  const cpu = process.cpuUsage();
  log.debug("serving api", {
    pid: process.pid,
    startupMs: Math.round(performance.now()),
    startupCpuMs: Math.round((cpu.user + cpu.system) / 1000),
  });
}
