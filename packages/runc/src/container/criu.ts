import { spawn } from "node:child_process";
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import type { ContainerConfig } from "../spec/config.js";

/**
 * The CRIU side of checkpoint/restore, driven through the `criu` command line (runc talks to
 * `criu swrk` over protobuf; the CLI takes the same options as flags). Pure argument builders
 * here, the processes in checkpoint.ts and restore.ts.
 */

/** runc's file in the image dir: what the init's fds 0–2 pointed at when it was dumped. */
export const DESCRIPTORS_FILE = "descriptors.json";
export const DUMP_LOG = "dump.log";
export const RESTORE_LOG = "restore.log";

/** The CRIU options runc's checkpoint and restore share (runc 1.1's flag names in comments). */
export interface CriuCommonOptions {
  imagePath: string;
  workPath?: string;
  /** --tcp-established */
  tcpEstablished?: boolean;
  /** --ext-unix-sk */
  extUnixSk?: boolean;
  /** --shell-job */
  shellJob?: boolean;
  /** --file-locks */
  fileLocks?: boolean;
  /** --manage-cgroups-mode: soft (default), full, strict */
  manageCgroupsMode?: string;
  /** --empty-ns: only "network" */
  emptyNs?: string[];
  /** --auto-dedup */
  autoDedup?: boolean;
  /** --lazy-pages */
  lazyPages?: boolean;
}

export interface DumpOptions extends CriuCommonOptions {
  /** --parent-path, relative to the image path */
  parentPath?: string;
  leaveRunning?: boolean;
  preDump?: boolean;
  /** --page-server ADDRESS:PORT */
  pageServer?: string;
}

export interface RestoreCriuOptions extends CriuCommonOptions {
  lsmProfile?: string;
  lsmMountContext?: string;
}

/** An external mount: its mountpoint in the container (the name in the image) → a host path. */
export interface ExtMount {
  key: string;
  val: string;
}

const CGROUP_MODES = new Set(["soft", "full", "strict"]);

/** Validates --manage-cgroups-mode and --empty-ns as runc does, before anything runs. */
export function checkCommonOptions(o: CriuCommonOptions): void {
  if (o.manageCgroupsMode && !CGROUP_MODES.has(o.manageCgroupsMode))
    throw errInvalidArgument("Invalid manage cgroups mode");
  for (const ns of o.emptyNs ?? [])
    if (ns !== "network")
      throw errInvalidArgument(`namespace ${JSON.stringify(ns)} is not supported`);
}

function commonArgs(o: CriuCommonOptions, log: string): string[] {
  const out = ["--images-dir", o.imagePath, "--log-file", log, "-v4"];
  if (o.workPath) out.push("--work-dir", o.workPath);
  out.push(o.manageCgroupsMode ? `--manage-cgroups=${o.manageCgroupsMode}` : "--manage-cgroups");
  if (o.tcpEstablished) out.push("--tcp-established");
  if (o.extUnixSk) out.push("--ext-unix-sk");
  if (o.shellJob) out.push("--shell-job");
  if (o.fileLocks) out.push("--file-locks");
  if (o.emptyNs?.includes("network")) out.push("--empty-ns", "net");
  if (o.autoDedup) out.push("--auto-dedup");
  if (o.lazyPages) out.push("--lazy-pages");
  return out;
}

function extMountArgs(mounts: readonly ExtMount[]): string[] {
  return mounts.flatMap((m) => ["--external", `mnt[${m.key}]:${m.val}`]);
}

/** `criu dump|pre-dump -t PID …` for a container whose rootfs is `rootfs`. */
export function dumpArgs(
  pid: number,
  rootfs: string,
  o: DumpOptions,
  ext: { mounts: readonly ExtMount[]; freezeCgroup?: string; files?: readonly string[] },
): string[] {
  const out = [o.preDump ? "pre-dump" : "dump", "--tree", String(pid), "--root", rootfs];
  out.push(...commonArgs(o, o.preDump ? "pre-dump.log" : DUMP_LOG));
  if (o.leaveRunning && !o.preDump) out.push("--leave-running");
  if (o.parentPath) out.push("--prev-images-dir", o.parentPath, "--track-mem");
  if (o.preDump) out.push("--track-mem");
  if (ext.freezeCgroup) out.push("--freeze-cgroup", ext.freezeCgroup);
  if (o.pageServer) {
    const at = o.pageServer.lastIndexOf(":");
    const address = o.pageServer.slice(0, at);
    const port = o.pageServer.slice(at + 1);
    if (at <= 0 || !/^\d+$/.test(port))
      throw errInvalidArgument("Use --page-server ADDRESS:PORT to specify page server");
    out.push("--page-server", "--address", address, "--port", port);
  }
  if (!o.preDump) out.push(...extMountArgs(ext.mounts));
  for (const key of ext.files ?? []) out.push("--external", key);
  return out;
}

/** `criu restore --restore-detached …` into `root` (a bind mount of the container's rootfs). */
export function restoreArgs(
  root: string,
  o: RestoreCriuOptions,
  ext: {
    mounts: readonly ExtMount[];
    inheritFds: ReadonlyArray<{ fd: number; key: string }>;
    cgroupRoots: ReadonlyArray<{ controller: string; path: string }>;
    pidFile: string;
  },
): string[] {
  const out = ["restore", "--restore-detached", "--root", root, "--pidfile", ext.pidFile];
  out.push(...commonArgs(o, RESTORE_LOG), "--evasive-devices");
  if (o.lsmProfile) out.push("--lsm-profile", o.lsmProfile);
  if (o.lsmMountContext) out.push("--lsm-mount-context", o.lsmMountContext);
  for (const r of ext.cgroupRoots)
    out.push("--cgroup-root", r.controller ? `${r.controller}:${r.path}` : r.path);
  for (const f of ext.inheritFds) out.push("--inherit-fd", `fd[${f.fd}]:${f.key}`);
  out.push(...extMountArgs(ext.mounts));
  return out;
}

/** A path inside the container as CRIU names mountpoints: absolute and clean. */
function inContainer(path: string): string {
  return posix.resolve("/", path);
}

function isBind(m: { type?: string; options?: string[] }): boolean {
  return m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
}

/** Device nodes runc creates in every container besides the spec's own. */
const DEFAULT_DEVICES = [
  "/dev/null",
  "/dev/zero",
  "/dev/full",
  "/dev/random",
  "/dev/urandom",
  "/dev/tty",
];

/**
 * The mounts whose source lies outside the container, which CRIU must treat as external:
 * bind mounts, the per-controller cgroup v1 bind mounts runc-ts makes for a `cgroup` mount
 * (no cgroup namespace), files masked with /dev/null, device nodes. On dump each is named by
 * its mountpoint; on restore the same name maps to the host source (`cgroupPaths` of the new
 * container for the cgroup binds).
 */
export function externalMounts(
  config: ContainerConfig,
  cgroups: { paths: Record<string, string>; version: 1 | 2 },
  mode: "dump" | "restore",
  maskedFiles: readonly string[] = [],
): ExtMount[] {
  const out: ExtMount[] = [];
  const add = (dest: string, source: string) => {
    const key = inContainer(dest);
    out.push({ key, val: mode === "dump" ? key : source });
  };
  const cgroupns = config.namespaces.some((n) => n.type === "cgroup");
  // as runc-ts's init mounts it: on v2 the container's cgroup as one bind, on v1 one bind per
  // controller (a hybrid host's unified hierarchy, key "", is not mounted)
  for (const m of config.mounts) {
    if (isBind(m)) add(m.destination, m.source ?? "");
    else if ((m.type === "cgroup" || m.type === "cgroup2") && !cgroupns) {
      if (cgroups.version === 2) {
        add(m.destination, cgroups.paths[""] ?? "");
        continue;
      }
      for (const [controller, hostPath] of Object.entries(cgroups.paths)) {
        if (controller === "") continue;
        const name = controller.startsWith("name=") ? controller.slice(5) : controller;
        add(posix.join(m.destination, name), hostPath);
      }
    }
  }
  if (mode === "dump")
    for (const p of maskedFiles) out.push({ key: inContainer(p), val: "/dev/null" });
  else if (config.maskedPaths.length > 0) out.push({ key: "/dev/null", val: "/dev/null" });
  const devices = new Set([...DEFAULT_DEVICES, ...config.devices.map((d) => d.path)]);
  for (const d of devices) add(d, d);
  return out;
}

/** The masked paths that are files (bind mounts of /dev/null) in the running container. */
export function maskedFiles(config: ContainerConfig, pid: number): string[] {
  return config.maskedPaths.filter((p) => {
    try {
      return !statSync(join(`/proc/${pid}/root`, p)).isDirectory();
    } catch {
      return false;
    }
  });
}

/** Mount ids the process sees (its mount namespace). */
function visibleMounts(pid: number): Set<number> {
  const ids = new Set<number>();
  for (const line of readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n"))
    if (line) ids.add(Number(line.split(" ")[0]));
  return ids;
}

function mountIdOf(pid: number, fd: number): number | undefined {
  const m = /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
  return m ? Number(m[1]) : undefined;
}

/**
 * What the init's fds 0–2 point at (runc's descriptors.json): pipes are re-wired on restore. A
 * file on a mount the container does not have (the FIFOs our shim hands over instead of copying
 * through pipes, a log file) cannot be dumped by path: it is named by CRIU's external-file key
 * `file[MNT_ID:INODE]` (hex) instead, dumped as external and re-wired like a pipe.
 */
export function initDescriptors(pid: number): string[] {
  let visible: Set<number> | undefined;
  return [0, 1, 2].map((fd) => {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "";
    }
    if (!link.startsWith("/")) return link;
    try {
      visible ??= visibleMounts(pid);
      const mnt = mountIdOf(pid, fd);
      if (mnt === undefined || visible.has(mnt)) return link;
      const ino = statSync(`/proc/${pid}/fd/${fd}`, { bigint: true }).ino;
      return `file[${mnt.toString(16)}:${ino.toString(16)}]`;
    } catch {
      return link;
    }
  });
}

/** The dumped descriptors' external-file keys, for `--external` on dump. */
export function externalFiles(descriptors: readonly string[]): string[] {
  return descriptors.filter((key) => key.startsWith("file["));
}

/**
 * The pipes and external files among the dumped descriptors, as `--inherit-fd fd[N]:KEY`
 * pairs: restore puts our own fd N in their place.
 */
export function inheritedFds(descriptors: readonly string[]): Array<{ fd: number; key: string }> {
  return descriptors.flatMap((key, fd) =>
    key.includes("pipe:") || key.startsWith("file[") ? [{ fd, key }] : [],
  );
}

/** Errors CRIU logs and then carries on from (seen on every run here as root in a shim). */
const BENIGN_ERRORS = [/RLIMIT_NOFILE/, /FAILED\.$/];

/** The first `Error (…)` line of a CRIU log with CRIU's version, for a readable failure. */
export function criuLogSummary(logPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logPath, "utf8");
  } catch {
    return undefined;
  }
  const version = /Version: (\S+)/.exec(text)?.[1];
  const error = [...text.matchAll(/Error \([^)]*\): (.*)/g)]
    .map((m) => m[1]!.trim())
    .find((line) => !BENIGN_ERRORS.some((re) => re.test(line)));
  if (!error) return undefined;
  return version ? `criu ${version}: ${error}` : error;
}

/**
 * Runs criu to completion. Failure reads as runc's (`criu failed: type DUMP …` then the log
 * file) with the first error CRIU logged, so a caller's first line says what went wrong.
 */
export function runCriu(
  binary: string,
  args: string[],
  /** stdin: an fd given to criu as its fd 0 instead of ours (with inheritStdio) */
  o: { type: string; logPath: string; inheritStdio?: boolean; stdin?: number },
): Promise<void> {
  return new Promise((resolveRun, reject) => {
    let stderr = "";
    const child = spawn(binary, args, {
      stdio: o.inheritStdio
        ? [o.stdin ?? "inherit", "inherit", "inherit"]
        : ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT")
        reject(new Error(`exec: ${JSON.stringify(binary)}: executable file not found in $PATH`));
      else reject(e);
    });
    child.once("close", (code, signal) => {
      if (code === 0) return resolveRun();
      const why =
        criuLogSummary(o.logPath) ??
        (stderr.trim().split("\n")[0] || `exit ${code ?? signal ?? "?"}`);
      reject(new Error(`criu failed: type ${o.type}: ${why}\nlog file: ${o.logPath}`));
    });
  });
}
