// Operations shared by the v1 and v2 managers.
import path from "node:path";
import { errFailedPrecondition } from "@containerd-ts/errdefs";
import { CgroupFs, errnoOfCgroupError, sleepSync } from "./fsutil.js";
import type { LinuxBlockIO, LinuxThrottleDevice } from "./types.js";

/**
 * Moves `pid` into the cgroup at `dir`. EINVAL can come from a race with the cgroup being
 * set up (runc retries too), so a few retries are made before giving up.
 */
export function writeProcs(fs: CgroupFs, dir: string, pid: number): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.write(dir, "cgroup.procs", String(pid));
      return;
    } catch (err) {
      if (errnoOfCgroupError(err) !== "EINVAL" || attempt >= 4) throw err;
      sleepSync(30);
    }
  }
}

/** cgroup.procs of `dir` and every sub-cgroup, deduplicated, ascending. */
export function collectPids(fs: CgroupFs, dir: string): number[] {
  const seen = new Set<number>();
  const walk = (d: string) => {
    const procs = fs.readOptional(d, "cgroup.procs");
    if (procs === undefined) return;
    for (const line of procs.split("\n")) {
      const pid = Number(line.trim());
      if (line.trim() !== "" && Number.isInteger(pid)) seen.add(pid);
    }
    for (const sub of fs.subdirs(d)) walk(sub);
  };
  walk(dir);
  return [...seen].sort((a, b) => a - b);
}

/**
 * Removes every directory, retrying with growing delays while exiting tasks drain (rmdir
 * says EBUSY until the last one is gone). Already missing directories count as removed.
 */
export function removeWithRetries(fs: CgroupFs, dirs: Record<string, string>): void {
  const pending = new Map(Object.entries(dirs));
  let delay = 10;
  let lastError: unknown;
  for (let attempt = 0; attempt < 6 && pending.size > 0; attempt++) {
    if (attempt > 0) {
      sleepSync(delay);
      delay *= 2;
    }
    for (const [key, dir] of pending) {
      try {
        fs.removeTree(dir);
      } catch (err) {
        lastError = err;
      }
      if (!fs.exists(dir)) pending.delete(key);
    }
  }
  if (pending.size > 0) {
    const left = [...new Set(pending.values())].map((d) => path.normalize(d)).join(", ");
    const why = lastError instanceof Error ? `: ${lastError.message}` : "";
    throw errFailedPrecondition(`cgroups: failed to remove ${left}${why}`);
  }
}

/** Runs `build`; if it fails, runs `undo` (ignoring its own failure) and rethrows. */
export function buildOrUndo(build: () => void, undo: () => void): void {
  try {
    build();
  } catch (err) {
    try {
      undo();
    } catch {
      // the original error is the one worth reporting
    }
    throw err;
  }
}

/** Block IO throttles, named by cgroup v2's io.max keys. */
export type ThrottleKind = "rbps" | "wbps" | "riops" | "wiops";

export function blockIOThrottles(b: LinuxBlockIO): [ThrottleKind, LinuxThrottleDevice][] {
  const out: [ThrottleKind, LinuxThrottleDevice][] = [];
  const add = (kind: ThrottleKind, list: LinuxThrottleDevice[] | undefined) => {
    for (const t of list ?? []) out.push([kind, t]);
  };
  add("rbps", b.throttleReadBpsDevice);
  add("wbps", b.throttleWriteBpsDevice);
  add("riops", b.throttleReadIOPSDevice);
  add("wiops", b.throttleWriteIOPSDevice);
  return out;
}
