// Where a container's cgroup lives: mode detection, /proc/self/cgroup, and runc's rules for
// linux.cgroupsPath (cgroupfs driver).
import fs from "node:fs";
import path from "node:path";
import { errInvalidArgument, errNotFound, errNotImplemented } from "@containerd-ts/errdefs";
import type { CgroupMode } from "./types.js";

export const DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup";

/** The v1 controllers runc's cgroupfs manager handles, in its order; "name=systemd" is joined only. */
export const V1_SUBSYSTEMS = [
  "cpuset",
  "devices",
  "memory",
  "cpu",
  "cpuacct",
  "pids",
  "blkio",
  "hugetlb",
  "net_cls",
  "net_prio",
  "perf_event",
  "freezer",
  "rdma",
  "name=systemd",
] as const;

/**
 * v2 when the root itself is the unified hierarchy, "hybrid" when v1 controllers sit beside a
 * v2 mount at <root>/unified, else v1. Decided by the files present, so fake trees work.
 */
export function detectCgroupMode(root: string = DEFAULT_CGROUP_ROOT): CgroupMode {
  if (fs.existsSync(path.join(root, "cgroup.controllers"))) return "v2";
  if (fs.existsSync(path.join(root, "unified", "cgroup.controllers"))) return "hybrid";
  return "v1";
}

/** /proc/<pid>/cgroup: controller → path, with "" for the v2 (0::) entry. */
export function parseProcCgroup(content: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of content.split("\n")) {
    if (!line.trim()) continue;
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0)
      throw errInvalidArgument(`cgroups: invalid cgroup entry ${JSON.stringify(line)}`);
    const controllers = line.slice(first + 1, second);
    const p = line.slice(second + 1);
    if (controllers === "") out.set("", p);
    else for (const c of controllers.split(",")) out.set(c, p);
  }
  return out;
}

export function readOwnCgroups(procRoot = "/proc"): Map<string, string> {
  return parseProcCgroup(fs.readFileSync(path.join(procRoot, "self", "cgroup"), "utf8"));
}

/**
 * Go's filepath.Clean plus runc's CleanPath rule that a relative path can never climb above
 * its base ("../../x" → "x"). Absolute paths stay absolute; "" stays "".
 */
export function cleanCgroupPath(p: string): string {
  if (p === "") return "";
  if (p.startsWith("/")) return stripTrailingSlash(path.posix.normalize(p));
  const rooted = stripTrailingSlash(path.posix.normalize("/" + p));
  return rooted === "/" ? "." : rooted.slice(1);
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

/** "slice:prefix:name" is the systemd driver's syntax, which runc-ts does not implement. */
export function isSystemdCgroupsPath(p: string): boolean {
  return /^[^/:]*:[^/:]*:[^/:]+$/.test(p);
}

/**
 * The inner path runc derives from the spec: the cleaned cgroupsPath, or (when empty) the
 * container id, which is relative and so lands below the caller's own cgroup.
 */
export function innerCgroupPath(cgroupsPath: string, containerId: string): string {
  if (isSystemdCgroupsPath(cgroupsPath)) {
    throw errNotImplemented(
      `cgroups: cgroupsPath ${JSON.stringify(cgroupsPath)} uses the systemd "slice:prefix:name" syntax; ` +
        "only the cgroupfs driver is supported",
    );
  }
  const inner = cleanCgroupPath(cgroupsPath) || cleanCgroupPath(containerId);
  if (inner === "" || inner === "." || inner === "/") {
    throw errInvalidArgument("cgroups: cgroupsPath and container id are both empty");
  }
  return inner;
}

/**
 * Mounted v1 hierarchies below `root`: subsystem → mount directory. Co-mounted controllers
 * ("cpu,cpuacct", often with "cpu" and "cpuacct" symlinks) resolve to the real directory.
 */
export function v1Mounts(root: string): Map<string, string> {
  const out = new Map<string, string>();
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    if (name === "unified") continue;
    const p = path.join(root, name);
    let real: string;
    try {
      if (!fs.statSync(p).isDirectory()) continue;
      real = path.join(root, path.basename(fs.realpathSync(p)));
    } catch {
      continue;
    }
    const base = path.basename(real);
    for (const c of base.split(",")) {
      const key = c === "systemd" ? "name=systemd" : c;
      if (!out.has(key)) out.set(key, real);
    }
  }
  return out;
}

/** runc's subsysPath: absolute below each mount, relative below our own cgroup there. */
export function resolveV1Paths(
  root: string,
  inner: string,
  ownCgroups: () => Map<string, string>,
  hybrid: boolean,
): Record<string, string> {
  const mounts = v1Mounts(root);
  const out: Record<string, string> = {};
  const own = inner.startsWith("/") ? undefined : ownCgroups();
  for (const sub of V1_SUBSYSTEMS) {
    const mnt = mounts.get(sub);
    if (!mnt) {
      // a missing devices hierarchy would silently drop device isolation
      if (sub === "devices")
        throw errNotFound(`cgroups: devices cgroup hierarchy not mounted under ${root}`);
      continue;
    }
    if (own) {
      const mine = own.get(sub);
      if (mine === undefined) {
        if (sub === "devices")
          throw errNotFound("cgroups: own devices cgroup not found in /proc/self/cgroup");
        continue;
      }
      out[sub] = path.join(mnt, mine, inner);
    } else {
      out[sub] = path.join(mnt, inner);
    }
  }
  if (hybrid) {
    const unified = path.join(root, "unified");
    out[""] = own ? path.join(unified, own.get("") ?? "/", inner) : path.join(unified, inner);
  }
  return out;
}

/**
 * runc's fs2 default path: absolute below the root; relative below the *parent* of our own
 * cgroup, because our own (leaf) cgroup has processes and cannot delegate controllers.
 */
export function resolveV2Path(
  root: string,
  inner: string,
  ownCgroups: () => Map<string, string>,
): string {
  if (inner.startsWith("/")) return path.join(root, inner);
  const own = ownCgroups().get("");
  if (own === undefined) throw errNotFound("cgroups: no cgroup v2 entry in /proc/self/cgroup");
  return path.join(root, path.posix.dirname(own), inner);
}
