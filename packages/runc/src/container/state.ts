import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerConfig } from "../spec/config.js";
import { bigintReplacer, bigintReviver } from "../init/sync.js";

export type Status = "created" | "running" | "paused" | "stopped";

/** What runc-ts keeps in <root>/<id>/state.json; later runc-ts processes read it. */
export interface ContainerState {
  id: string;
  /** host pid of the init (later the container's pid 1) */
  initPid: number;
  /** field 22 of /proc/<pid>/stat at create time, to detect pid reuse */
  initStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, UTC */
  created: string;
  config: ContainerConfig;
  cgroupPaths: Record<string, string>;
  cgroupVersion: 1 | 2;
  /** namespaces the container has: type → /proc/<pid>/ns path (for exec) */
  namespacePaths: Record<string, string>;
}

export const STATE_FILE = "state.json";
export const EXEC_FIFO = "exec.fifo";

export function containerDir(root: string, id: string): string {
  return join(root, id);
}

/** Writes a file atomically (tmp + rename) so readers never see half a file. */
export function writeAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

export function saveState(root: string, s: ContainerState): void {
  writeAtomic(join(containerDir(root, s.id), STATE_FILE), JSON.stringify(s, bigintReplacer), 0o600);
}

export function loadState(root: string, id: string): ContainerState | undefined {
  try {
    return JSON.parse(
      readFileSync(join(containerDir(root, id), STATE_FILE), "utf8"),
      bigintReviver,
    ) as ContainerState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** /proc/<pid>/stat: [state letter, start time] or undefined when the pid is gone. */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
  if (pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces and parentheses: fields start after the last ')'
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0]!, startTime: rest[19]! };
  } catch {
    return undefined;
  }
}

/** Whether the init is still the process we started (alive, not a zombie, same start time). */
export function initAlive(s: ContainerState): boolean {
  const st = procStat(s.initPid);
  return (
    st !== undefined && st.state !== "Z" && st.state !== "X" && st.startTime === s.initStartTime
  );
}

/**
 * Reads the freezer straight from the cgroup paths in state.json, so status checks need not
 * load the cgroup manager (start, state, list, kill and exec stay cheap).
 */
export function frozenFromPaths(s: ContainerState): boolean {
  try {
    if (s.cgroupVersion === 2)
      return readFileSync(join(s.cgroupPaths[""]!, "cgroup.freeze"), "utf8").trim() === "1";
    const freezer = s.cgroupPaths.freezer;
    return (
      freezer !== undefined &&
      readFileSync(join(freezer, "freezer.state"), "utf8").trim() !== "THAWED"
    );
  } catch {
    return false;
  }
}

/** runc's rule: stopped if the init is gone; paused if frozen; created while the fifo exists. */
export function statusOf(root: string, s: ContainerState, isFrozen: () => boolean): Status {
  if (!initAlive(s)) return "stopped";
  if (isFrozen()) return "paused";
  if (existsSync(join(containerDir(root, s.id), EXEC_FIFO))) return "created";
  return "running";
}

/** Go's time.RFC3339Nano in UTC, from a bigint of nanoseconds since the epoch. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1000000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1000000000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${base}${frac ? "." + frac : ""}Z`;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
}

/** The owner column: the user owning the state dir. */
export function ownerOf(root: string, id: string): string {
  try {
    const uid = statSync(containerDir(root, id)).uid;
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (Number(f[2]) === uid && f[0]) return f[0];
    }
    return `#${uid}`;
  } catch {
    return "";
  }
}

/**
 * runc's `state` JSON object (field order as runc prints it). runc's `state` leaves owner
 * empty; `list` fills it with the state dir's owner.
 */
export function publicState(
  root: string,
  s: ContainerState,
  status: Status,
  withOwner = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ociVersion: s.config.ociVersion,
    id: s.id,
    pid: status === "stopped" ? 0 : s.initPid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
  };
  if (Object.keys(s.config.annotations).length) out.annotations = s.config.annotations;
  out.owner = withOwner ? ownerOf(root, s.id) : "";
  return out;
}
