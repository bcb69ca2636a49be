import { closeSync, openSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { CLONE_FS, CLONE_NEWPID } from "@containerd-ts/sys/constants.js";
import { libc } from "@containerd-ts/sys/libc.js";
import { bool, int, multi, str, type ParsedArgs } from "../cli/args.js";
import { processSteps, type InitStep } from "../init/plan.js";
import { validateProcess, type ProcessConfig } from "../spec/config.js";
import { capabilityNamesValid } from "./exec-process.js";
import { exitCodeOf, forwardSignals, spawnInit } from "./child.js";
import { connectConsole, ownConsole, proxyConsole } from "./console.js";
import { CLONE_FLAGS, PROC_NS } from "./namespaces.js";
import { hookState, loadContainer } from "./ops.js";
import { assertCan } from "./transitions.js";
import { containerDir, writeAtomic } from "./state.js";

/** The process `exec` runs: --process FILE, or the container's process with the CLI's changes. */
export function execProcessConfig(base: ProcessConfig, a: ParsedArgs): ProcessConfig {
  const file = str(a.flags.process);
  if (file !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw errInvalidArgument(`process: ${(e as Error).message}`);
    }
    return validateProcess(raw, "process");
  }
  const args = a.positionals.slice(1);
  if (args.length === 0) throw errInvalidArgument("exec args cannot be empty");
  const p: ProcessConfig = structuredClone(base);
  p.args = args;
  p.env = [...base.env, ...multi(a.flags.env)];
  p.terminal = bool(a.flags.tty);
  delete p.consoleSize;
  const cwd = str(a.flags.cwd);
  if (cwd !== undefined) p.cwd = cwd;
  const user = str(a.flags.user);
  if (user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!m) throw errInvalidArgument(`user: ${user}: must be uid[:gid]`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  const gids = multi(a.flags["additional-gids"]).map(Number);
  if (gids.some((g) => !Number.isInteger(g) || g < 0))
    throw errInvalidArgument("additional-gids: must be numbers");
  if (gids.length) p.user.additionalGids = gids;
  const caps = multi(a.flags.cap);
  capabilityNamesValid(caps);
  if (caps.length && p.capabilities) {
    for (const set of ["bounding", "effective", "permitted", "ambient"] as const)
      p.capabilities[set] = [...new Set([...p.capabilities[set], ...caps])];
  }
  if (bool(a.flags["no-new-privs"])) p.noNewPrivileges = true;
  return p;
}

/**
 * `exec`: the parent joins the container's pid namespace on its main thread and spawns a
 * Node child; the child makes its fs_struct private, setns into the other namespaces, applies
 * the process settings, joins the cgroup and execs. --detach returns once the exec happened.
 */
export async function execProcess(root: string, a: ParsedArgs): Promise<number> {
  const c = await loadContainer(root, a.positionals[0]);
  const status = c.status();
  if (!(status === "paused" && bool(a.flags["ignore-paused"])))
    assertCan("exec", status, c.state.id);
  const proc = execProcessConfig(c.state.config.process, a);
  const detach = bool(a.flags.detach);
  const consoleSocket = str(a.flags["console-socket"]);
  if (proc.terminal && !consoleSocket && detach)
    throw errInvalidArgument(
      "cannot allocate tty if runc will detach without setting console socket",
    );
  if (!proc.terminal && consoleSocket)
    throw errInvalidArgument("cannot use console socket if runc will not detach or allocate tty");
  const pid = c.state.initPid;
  const steps: InitStep[] = [{ op: "openCgroupProcs" }, { op: "unshare", flags: CLONE_FS }];
  const namespaces = c.state.config.namespaces;
  // mount last: the other /proc/<pid>/ns paths must still resolve on the host
  for (const n of [
    ...namespaces.filter((x) => x.type !== "mount"),
    ...namespaces.filter((x) => x.type === "mount"),
  ]) {
    if (n.type === "pid") continue;
    steps.push({
      op: "setns",
      path: `/proc/${pid}/ns/${PROC_NS[n.type]}`,
      nstype: CLONE_FLAGS[n.type],
    });
  }
  steps.push(...processSteps(proc, c.state.config.seccomp, { waitFifo: false, cgroupns: false }));

  const sys = libc();
  let consoleFd: number | undefined;
  let own: ReturnType<typeof ownConsole> | undefined;
  if (consoleSocket) consoleFd = connectConsole(consoleSocket);
  else if (proc.terminal) {
    own = ownConsole(containerDir(root, c.state.id));
    consoleFd = own.childFd;
  }
  if (namespaces.some((n) => n.type === "pid")) {
    const fd = openSync(`/proc/${pid}/ns/pid`, "r");
    try {
      sys.setns(fd, CLONE_NEWPID);
    } finally {
      closeSync(fd);
    }
  }
  const preserveFds = int(a.flags["preserve-fds"]);
  const child = spawnInit({ cwd: c.state.bundle, preserveFds, consoleFd });
  if (consoleFd !== undefined) closeSync(consoleFd);
  const cgroupPaths = c.state.cgroupPaths;
  child.send({
    type: "plan",
    mode: "exec",
    steps,
    extraFds: Array.from({ length: preserveFds }, (_, i) => 3 + i),
    cgroupProcsFiles: [...new Set(Object.values(cgroupPaths))].map((p) => join(p, "cgroup.procs")),
    cgroupPaths,
    cgroupVersion: c.state.cgroupVersion,
    hooks: {},
    hookState: hookState(c.state, "running"),
  });
  const exited = exitCodeOf(child.child);
  for (;;) {
    const m = await child.next();
    if (m === undefined) break; // the sync fd closed on execve
    if (m.type === "error") {
      own?.close();
      await exited;
      throw new Error(m.message);
    }
  }
  const childPid = child.child.pid!;
  const pidFile = str(a.flags["pid-file"]);
  if (pidFile) writeAtomic(resolve(pidFile), String(childPid));
  if (detach) {
    child.child.unref();
    return 0;
  }
  const undo = forwardSignals(childPid);
  const tty = own ? proxyConsole(own.receive()) : undefined;
  const code = await exited;
  if (tty) {
    await Promise.race([tty.done, new Promise((r) => setTimeout(r, 1000))]);
    tty.stop();
  }
  undo();
  return code;
}
