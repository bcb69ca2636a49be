import {
  CLONE_NEWCGROUP,
  MS_BIND,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  S_IFCHR,
} from "@containerd-ts/sys/constants.js";
import { resolve } from "node:path";
import type { CapabilitySets } from "@containerd-ts/sys/syscalls.js";
import type { ContainerConfig, ProcessConfig } from "../spec/config.js";
import type { LinuxSeccomp } from "../spec/types.js";
import { ambientCaps, capSets } from "./capabilities.js";
import { parseMountOptions, PROPAGATION_FLAGS } from "./mount-options.js";

/**
 * One step of the container init, as pure data. `buildInitPlan` turns a config into an
 * ordered list of these; `executePlan` runs them over a Syscalls. Paths named `dest` are
 * inside the rootfs and are resolved (symlinks clamped to the rootfs) at execution time.
 */
export type InitStep =
  | { op: "propagation"; target: string; flags: number }
  | { op: "joinSessionKeyring"; name: string }
  | { op: "bindRootfs"; rootfs: string }
  | {
      op: "mount";
      source: string | null;
      dest: string;
      fstype: string | null;
      flags: number;
      data: string | null;
      bind: boolean;
    }
  | { op: "remount"; dest: string; flags: number }
  | { op: "cgroupMount"; dest: string; flags: number; readonly: boolean }
  | {
      op: "mknod";
      dest: string;
      mode: number;
      major: number;
      minor: number;
      uid: number;
      gid: number;
    }
  | { op: "symlink"; target: string; dest: string }
  | { op: "openExecFifo"; path: string }
  | { op: "openCgroupProcs" }
  | { op: "writeFile"; path: string; data: string }
  | { op: "syncHooks" }
  | { op: "runHooks"; name: "createContainer" | "startContainer" }
  | { op: "pivotRoot"; rootfs: string }
  | { op: "moveRoot"; rootfs: string }
  | { op: "maskPath"; path: string }
  | { op: "readonlyPath"; path: string }
  | { op: "remountRootReadonly" }
  | { op: "sethostname"; name: string }
  | { op: "setdomainname"; name: string }
  | { op: "sysctl"; key: string; value: string }
  | { op: "setrlimit"; resource: number; soft: bigint; hard: bigint }
  | { op: "console"; size?: { height: number; width: number } }
  | { op: "chdir"; path: string }
  | { op: "findExecutable"; arg0: string; env: string[] }
  | { op: "syncReady" }
  | { op: "waitExecFifo" }
  | { op: "signalExecFifo" }
  | { op: "joinCgroup" }
  | { op: "unshare"; flags: number }
  | { op: "setns"; path: string; nstype: number }
  | { op: "noNewPrivileges" }
  | { op: "dropBounding"; keep: string[] }
  | { op: "setUser"; uid: number; gid: number; additionalGids: number[] }
  | { op: "capset"; sets: CapabilitySets }
  | { op: "ambient"; caps: number[] }
  | { op: "umask"; mask: number }
  | { op: "seccomp"; profile: LinuxSeccomp }
  | { op: "exec"; args: string[]; env: string[] };

export interface InitOptions {
  noPivot: boolean;
  /** --no-new-keyring: keep the caller's session keyring */
  noNewKeyring?: boolean;
  execFifoPath: string;
}

/** The devices runc creates in every container whose /dev is not a bind mount. */
export const DEFAULT_DEVICES = [
  { path: "/dev/null", major: 1, minor: 3 },
  { path: "/dev/zero", major: 1, minor: 5 },
  { path: "/dev/full", major: 1, minor: 7 },
  { path: "/dev/random", major: 1, minor: 8 },
  { path: "/dev/urandom", major: 1, minor: 9 },
  { path: "/dev/tty", major: 5, minor: 0 },
] as const;

const DEVICE_TYPE_BITS: Record<string, number> = {
  c: S_IFCHR,
  u: S_IFCHR,
  b: 0o060000,
  p: 0o010000,
};

function mountSteps(config: ContainerConfig): InitStep[] {
  const steps: InitStep[] = [];
  for (const m of config.mounts) {
    const opts = parseMountOptions(m.options ?? []);
    const type = m.type ?? (opts.flags & MS_BIND ? "bind" : "none");
    const bind = (opts.flags & MS_BIND) !== 0 || type === "bind";
    if (type === "cgroup" || type === "cgroup2") {
      steps.push({
        op: "cgroupMount",
        dest: m.destination,
        flags: opts.flags & ~MS_RDONLY,
        readonly: (opts.flags & MS_RDONLY) !== 0,
      });
      continue;
    }
    if (bind) {
      // relative bind sources are relative to the bundle (runc runs with cwd = bundle)
      const source = resolve(config.bundle, m.source ?? "");
      const bindFlags = MS_BIND | (opts.flags & MS_REC);
      steps.push({
        op: "mount",
        source,
        dest: m.destination,
        fstype: null,
        flags: bindFlags,
        data: null,
        bind: true,
      });
      // A bind mount ignores every other flag: apply them with a remount.
      const rest = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
      if (rest) steps.push({ op: "remount", dest: m.destination, flags: rest });
    } else {
      steps.push({
        op: "mount",
        source: m.source ?? type,
        dest: m.destination,
        fstype: type,
        flags: opts.flags,
        data: opts.data,
        bind: false,
      });
    }
    for (const p of opts.propagation)
      steps.push({ op: "propagation", target: m.destination, flags: p });
  }
  return steps;
}

function devSteps(config: ContainerConfig): InitStep[] {
  const devIsBind = config.mounts.some(
    (m) =>
      m.destination === "/dev" &&
      (m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind")),
  );
  if (devIsBind) return [];
  const steps: InitStep[] = [];
  const seen = new Set<string>();
  for (const d of config.devices) {
    seen.add(d.path);
    steps.push({
      op: "mknod",
      dest: d.path,
      mode: DEVICE_TYPE_BITS[d.type]! | (d.fileMode ?? 0o666),
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    });
  }
  for (const d of DEFAULT_DEVICES) {
    if (seen.has(d.path)) continue;
    steps.push({
      op: "mknod",
      dest: d.path,
      mode: S_IFCHR | 0o666,
      major: d.major,
      minor: d.minor,
      uid: 0,
      gid: 0,
    });
  }
  steps.push({ op: "symlink", target: "pts/ptmx", dest: "/dev/ptmx" });
  steps.push({ op: "symlink", target: "/proc/self/fd", dest: "/dev/fd" });
  steps.push({ op: "symlink", target: "/proc/self/fd/0", dest: "/dev/stdin" });
  steps.push({ op: "symlink", target: "/proc/self/fd/1", dest: "/dev/stdout" });
  steps.push({ op: "symlink", target: "/proc/self/fd/2", dest: "/dev/stderr" });
  return steps;
}

/**
 * The process half of the plan, shared by the container init and `exec`: everything from
 * "the environment is ready" to execve, ending with the cgroup join right before execve so
 * Node's own memory is never charged to the container.
 */
export function processSteps(
  p: ProcessConfig,
  seccomp: LinuxSeccomp | undefined,
  tail: { waitFifo: boolean; cgroupns: boolean },
): InitStep[] {
  const steps: InitStep[] = [];
  for (const r of p.rlimits)
    steps.push({ op: "setrlimit", resource: r.resource, soft: r.soft, hard: r.hard });
  if (p.terminal)
    steps.push(p.consoleSize ? { op: "console", size: p.consoleSize } : { op: "console" });
  steps.push({ op: "chdir", path: p.cwd });
  steps.push({ op: "findExecutable", arg0: p.args[0]!, env: p.env });
  steps.push({ op: "syncReady" });
  if (tail.waitFifo) {
    // startContainer hooks run between `start` opening the fifo and reading from it, so its
    // poststart hooks follow them
    steps.push({ op: "waitExecFifo" });
    steps.push({ op: "runHooks", name: "startContainer" });
    steps.push({ op: "signalExecFifo" });
  }
  steps.push({ op: "joinCgroup" });
  if (tail.cgroupns) steps.push({ op: "unshare", flags: CLONE_NEWCGROUP });
  if (p.noNewPrivileges) steps.push({ op: "noNewPrivileges" });
  if (p.capabilities) steps.push({ op: "dropBounding", keep: p.capabilities.bounding });
  steps.push({
    op: "setUser",
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids,
  });
  if (p.capabilities) {
    steps.push({ op: "capset", sets: capSets(p.capabilities) });
    const amb = ambientCaps(p.capabilities);
    if (amb.length) steps.push({ op: "ambient", caps: amb });
  }
  if (p.user.umask !== undefined) steps.push({ op: "umask", mask: p.user.umask });
  if (seccomp) steps.push({ op: "seccomp", profile: seccomp });
  steps.push({ op: "exec", args: p.args, env: p.env });
  return steps;
}

/** config.json (validated) → the ordered steps of `runc-ts init`. Pure. */
export function buildInitPlan(config: ContainerConfig, opts: InitOptions): InitStep[] {
  const steps: InitStep[] = [];
  const propagation = config.rootfsPropagation
    ? PROPAGATION_FLAGS[config.rootfsPropagation]!
    : MS_SLAVE | MS_REC;
  if (!opts.noNewKeyring) steps.push({ op: "joinSessionKeyring", name: `_ses.${config.id}` });
  steps.push({ op: "propagation", target: "/", flags: propagation });
  steps.push({ op: "bindRootfs", rootfs: config.rootfs });
  steps.push(...mountSteps(config));
  steps.push(...devSteps(config));
  steps.push({ op: "openExecFifo", path: opts.execFifoPath });
  steps.push({ op: "openCgroupProcs" });
  if (config.process.oomScoreAdj !== undefined)
    steps.push({
      op: "writeFile",
      path: "/proc/self/oom_score_adj",
      data: String(config.process.oomScoreAdj),
    });
  steps.push({ op: "syncHooks" });
  steps.push({ op: "runHooks", name: "createContainer" });
  steps.push(
    opts.noPivot
      ? { op: "moveRoot", rootfs: config.rootfs }
      : { op: "pivotRoot", rootfs: config.rootfs },
  );
  if (config.hostname !== undefined) steps.push({ op: "sethostname", name: config.hostname });
  if (config.domainname !== undefined) steps.push({ op: "setdomainname", name: config.domainname });
  for (const [key, value] of Object.entries(config.sysctl))
    steps.push({ op: "sysctl", key, value });
  for (const path of config.readonlyPaths) steps.push({ op: "readonlyPath", path });
  for (const path of config.maskedPaths) steps.push({ op: "maskPath", path });
  if (config.readonlyRoot) steps.push({ op: "remountRootReadonly" });
  const cgroupns = config.namespaces.some((n) => n.type === "cgroup" && n.path === undefined);
  steps.push(...processSteps(config.process, config.seccomp, { waitFifo: true, cgroupns }));
  return steps;
}
