/**
 * argv of every runtime command, flag for flag and in the order go-runc (and so the real
 * containerd-shim-runc-v2) uses — runtimes such as crun parse the same way.
 */
import { resolve } from "node:path";
import type {
  CheckpointOptions,
  CreateOptions,
  ExecOptions,
  RestoreOptions,
  RuncClientOptions,
} from "./types.js";

export function globalArgs(o: RuncClientOptions): string[] {
  const out: string[] = [];
  if (o.root) out.push("--root", o.root);
  if (o.debug) out.push("--debug");
  if (o.log) out.push("--log", o.log);
  if (o.logFormat) out.push("--log-format", o.logFormat);
  if (o.criu) out.push("--criu", o.criu);
  if (o.systemdCgroup) out.push("--systemd-cgroup");
  return out;
}

/** `create --bundle B --pid-file ABS [--console-socket S] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID` */
export function createArgs(id: string, o: CreateOptions): string[] {
  const out = ["create", "--bundle", o.bundle];
  if (o.pidFile) out.push("--pid-file", resolve(o.pidFile));
  if (o.consoleSocket) out.push("--console-socket", o.consoleSocket);
  if (o.noPivot) out.push("--no-pivot");
  if (o.noNewKeyring) out.push("--no-new-keyring");
  if (o.extraFds && o.extraFds.length > 0) out.push("--preserve-fds", String(o.extraFds.length));
  out.push(id);
  return out;
}

/** `exec --process FILE [--console-socket S] [--detach] [--pid-file ABS] ID` */
export function execArgs(id: string, processFile: string, o: ExecOptions): string[] {
  const out = ["exec", "--process", processFile];
  if (o.consoleSocket) out.push("--console-socket", o.consoleSocket);
  if (o.detach) out.push("--detach");
  if (o.pidFile) out.push("--pid-file", resolve(o.pidFile));
  out.push(id);
  return out;
}

export function killArgs(id: string, signal: number, o: { all?: boolean } = {}): string[] {
  return ["kill", ...(o.all ? ["--all"] : []), id, String(signal)];
}

export function deleteArgs(id: string, o: { force?: boolean } = {}): string[] {
  return ["delete", ...(o.force ? ["--force"] : []), id];
}

function criuArgs(o: Omit<CheckpointOptions, "leaveRunning" | "preDump">): string[] {
  const out: string[] = [];
  if (o.imagePath) out.push("--image-path", o.imagePath);
  if (o.workPath) out.push("--work-path", o.workPath);
  if (o.parentPath) out.push("--parent-path", o.parentPath);
  if (o.allowOpenTcp) out.push("--tcp-established");
  if (o.allowExternalUnixSockets) out.push("--ext-unix-sk");
  if (o.allowTerminal) out.push("--shell-job");
  if (o.criuPageServer) out.push("--page-server", o.criuPageServer);
  if (o.fileLocks) out.push("--file-locks");
  if (o.cgroupsMode) out.push("--manage-cgroups-mode", o.cgroupsMode);
  for (const ns of o.emptyNamespaces ?? []) out.push("--empty-ns", ns);
  if (o.lazyPages) out.push("--lazy-pages");
  return out;
}

export function checkpointArgs(id: string, o: CheckpointOptions): string[] {
  const out = ["checkpoint", ...criuArgs(o)];
  if (o.leaveRunning) out.push("--leave-running");
  if (o.preDump) out.push("--pre-dump");
  out.push(id);
  return out;
}

/** The CRIU flags, then `--detach --pid-file … --console-socket … --no-pivot -no-subreaper`, then `--bundle B ID`. */
export function restoreArgs(id: string, o: RestoreOptions): string[] {
  const out = ["restore", ...criuArgs(o)];
  if (o.detach) out.push("--detach");
  if (o.pidFile) out.push("--pid-file", resolve(o.pidFile));
  if (o.consoleSocket) out.push("--console-socket", o.consoleSocket);
  if (o.noPivot) out.push("--no-pivot");
  if (o.noSubreaper) out.push("-no-subreaper");
  out.push("--bundle", o.bundle, id);
  return out;
}
