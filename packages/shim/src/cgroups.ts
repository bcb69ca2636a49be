import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** controller → the directory of a process's cgroup in that v1 hierarchy */
export type CgroupPaths = Map<string, string>;

/** A container's cgroup: per-controller v1 directories, or one unified (v2) directory. */
export type ContainerCgroup = { version: 1; paths: CgroupPaths } | { version: 2; dir: string };

/** Where each v1 controller is mounted, from mountinfo (fstype cgroup, controllers in super options). */
export function v1MountPoints(
  mountinfo = readText("/proc/self/mountinfo") ?? "",
): Map<string, string> {
  const points = new Map<string, string>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
    if (fstype !== "cgroup") continue;
    const mountPoint = line.slice(0, sep).split(" ")[4];
    if (!mountPoint) continue;
    for (const opt of superOpts.split(",")) if (!points.has(opt)) points.set(opt, mountPoint);
  }
  return points;
}

/** The v1 cgroup directories of pid, per controller; empty when the pid is gone or on pure v2. */
export function cgroupV1Paths(pid: number, mounts = v1MountPoints()): CgroupPaths {
  const paths: CgroupPaths = new Map();
  const text = readText(`/proc/${pid}/cgroup`);
  if (!text) return paths;
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m || m[2] === "") continue;
    for (const controller of m[2]!.split(",")) {
      const mp = mounts.get(controller);
      if (mp) paths.set(controller, join(mp, m[3]!));
    }
  }
  return paths;
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function readU64(dir: string | undefined, file: string): bigint {
  if (!dir) return 0n;
  const t = readText(join(dir, file))?.trim();
  // "max" (no limit) reads as 0, as containerd/cgroups reports it
  if (!t || t === "max") return 0n;
  try {
    return BigInt(t.split(/\s+/)[0]!);
  } catch {
    return 0n;
  }
}

export function readKeyed(dir: string | undefined, file: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const t = dir ? readText(join(dir, file)) : undefined;
  for (const line of t?.split("\n") ?? []) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

/** Where the unified hierarchy is mounted (fstype cgroup2), if anywhere. */
export function v2MountPoint(
  mountinfo = readText("/proc/self/mountinfo") ?? "",
): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep >= 0 && line.slice(sep + 3).startsWith("cgroup2 "))
      return line.slice(0, sep).split(" ")[4];
  }
  return undefined;
}

/**
 * The cgroup a spec's absolute cgroupfs `cgroupsPath` names (what containerd sets:
 * `/<ns>/<id>`), as runc resolves it under each controller's mount point; undefined for
 * relative or systemd (`slice:prefix:name`) paths, or when the runtime did not create it.
 */
export function cgroupFromSpecPath(cgroupsPath: string | undefined): ContainerCgroup | undefined {
  if (!cgroupsPath || !cgroupsPath.startsWith("/") || cgroupsPath.includes(":")) return undefined;
  const paths: CgroupPaths = new Map();
  for (const [controller, mp] of v1MountPoints()) {
    const dir = join(mp, cgroupsPath);
    if (isDir(dir)) paths.set(controller, dir);
  }
  if (paths.has("memory") || paths.has("cpuacct") || paths.has("pids"))
    return { version: 1, paths };
  const mp = v2MountPoint();
  if (mp && isDir(join(mp, cgroupsPath)) && !v1MountPoints().has("memory")) {
    return { version: 2, dir: join(mp, cgroupsPath) };
  }
  return undefined;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Same cgroup (by the memory, else cpu accounting, else unified directory)? */
export function sameCgroup(a: ContainerCgroup, b: ContainerCgroup): boolean {
  if (a.version !== b.version) return false;
  if (a.version === 2) return a.dir === (b as { dir: string }).dir;
  const key = (c: CgroupPaths) => c.get("memory") ?? c.get("cpuacct") ?? c.get("pids");
  return key(a.paths) === key((b as { paths: CgroupPaths }).paths);
}

/**
 * The cgroup of pid: v1 when the host has v1 controllers (hybrid hosts run containers there),
 * else the unified hierarchy. Undefined when the pid is gone.
 */
export function locateCgroup(pid: number): ContainerCgroup | undefined {
  const v1 = cgroupV1Paths(pid);
  if (v1.size > 0) return { version: 1, paths: v1 };
  const mp = v2MountPoint();
  const line = readText(`/proc/${pid}/cgroup`)
    ?.split("\n")
    .find((l) => l.startsWith("0::"));
  if (!mp || !line) return undefined;
  return { version: 2, dir: join(mp, line.slice(3)) };
}

/** The OOM kill counter (v1 memory.oom_control / v2 memory.events `oom_kill`). */
export function oomKillCount(cg: ContainerCgroup): bigint | undefined {
  if (cg.version === 2) return readKeyed(cg.dir, "memory.events").get("oom_kill");
  const dir = cg.paths.get("memory");
  if (!dir) return undefined;
  return readKeyed(dir, "memory.oom_control").get("oom_kill");
}
