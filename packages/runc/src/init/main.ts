import { trace } from "../trace.js";
import { closeSync, constants as fsConstants, open } from "node:fs";
import { constants as osConstants } from "node:os";
import { F_GETFD, F_SETFD, FD_CLOEXEC } from "@containerd-ts/sys/constants.js";
import { libc } from "@containerd-ts/sys/libc.js";
import { runHooks } from "../container/hooks.js";
import type { LinuxSeccomp } from "../spec/types.js";
import { PlanExecutor } from "./execute.js";
import type { PlanMessage } from "./protocol.js";
import { SyncChannel } from "./sync.js";

function flag(argv: readonly string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : undefined;
}

/**
 * `runc-ts init`: started by create/run/exec with the sync socket, runs the plan it is sent.
 * Everything it will need is imported before the plan runs: after pivot_root the files of
 * runc-ts are out of reach.
 */
export async function initMain(argv: readonly string[]): Promise<never> {
  const sys = libc();
  const syncFd = flag(argv, "--sync-fd");
  const consoleFd = flag(argv, "--console-fd");
  if (syncFd === undefined) {
    process.stderr.write("runc-ts init: not to be run by hand\n");
    process.exit(1);
  }
  // libuv hands the inherited descriptors over without FD_CLOEXEC: the container must not get them
  for (const fd of [syncFd, consoleFd])
    if (fd !== undefined) sys.fcntl(fd, F_SETFD, sys.fcntl(fd, F_GETFD) | FD_CLOEXEC);
  trace("init: loaded");
  const chan = new SyncChannel(syncFd);
  let open = true;
  try {
    const msg = chan.receive<PlanMessage>();
    trace("init: plan received");
    let compileSeccomp: ((p: LinuxSeccomp) => { program: Buffer; flags: number }) | undefined;
    if (msg.steps.some((s) => s.op === "seccomp")) {
      // loaded now: after pivot_root the module files are out of reach
      // the spec's seccomp type is the looser one (validated by the seccomp module)
      const mod = (await import("../seccomp/index.js")) as unknown as {
        compileSeccomp: (p: LinuxSeccomp) => Buffer;
        seccompFilterFlags: (p: LinuxSeccomp) => number;
      };
      compileSeccomp = (p) => ({
        program: mod.compileSeccomp(p),
        flags: mod.seccompFilterFlags(p),
      });
    }
    const executor = new PlanExecutor({
      sys,
      extraFds: msg.extraFds,
      cgroupProcsFiles: msg.cgroupProcsFiles,
      cgroupPaths:
        msg.cgroupVersion === 2 ? { "": msg.cgroupPaths[""]! } : withoutUnified(msg.cgroupPaths),
      consoleFd,
      compileSeccomp,
      openFifo: waitForStart,
      syncHooks() {
        chan.send({ type: "hooks" });
        const reply = chan.receive();
        if (reply.type !== "hooks-done")
          throw new Error(reply.type === "error" ? reply.message : "sync: unexpected reply");
      },
      syncReady() {
        chan.send({ type: "ready" });
        if (msg.mode === "init") {
          closeSync(syncFd);
          open = false;
        }
      },
      runHooks(name) {
        runHooks(name, msg.hooks[name], {
          ...msg.hookState,
          status: "created",
        });
      },
    });
    await executor.runAsync(msg.steps);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (open) {
      try {
        chan.send({ type: "error", message });
      } catch {
        process.stderr.write(`runc-ts init: ${message}\n`);
      }
    } else {
      process.stderr.write(`runc-ts init: ${message}\n`);
    }
  }
  process.exit(1);
}

const TERMINATING: NodeJS.Signals[] = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/**
 * Blocks in a libuv worker until `start` opens the fifo. Meanwhile the usual terminating
 * signals end the init (runc's Go init dies of them too); as pid 1 of its namespace it would
 * otherwise ignore them.
 */
function waitForStart(path: string): Promise<number> {
  // _exit: process.exit would wait for the libuv worker that is stuck in open()
  const die = (sig: NodeJS.Signals) => libc().exitNow(128 + (osConstants.signals[sig] ?? 0));
  for (const s of TERMINATING) process.on(s, die);
  return new Promise<number>((resolve, reject) =>
    open(path, fsConstants.O_WRONLY, (err, fd) => {
      for (const s of TERMINATING) process.off(s, die);
      if (err) reject(err);
      else resolve(fd);
    }),
  );
}

function withoutUnified(paths: Record<string, string>): Record<string, string> {
  const out = { ...paths };
  delete out[""];
  return out;
}
