import type { ChildProcess, SpawnOptions } from "node:child_process";

/** Starts one runtime process; child_process.spawn's shape. */
export type SpawnRuntime = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess;

/** How to call the runtime binary; the global flags every command gets (as go-runc's Runc). */
export interface RuncClientOptions {
  /** runc, runc-ts, crun, or an absolute path. */
  binary: string;
  /** `--root`: the runtime's state directory (the runc shim uses `<Root>/<namespace>`). */
  root: string;
  /** `--log`: where the runtime logs; its last `error` line becomes the error message. */
  log?: string;
  logFormat?: "json" | "text";
  systemdCgroup?: boolean;
  criu?: string;
  debug?: boolean;
  /**
   * Starts the runtime (default: child_process.spawn). A subreaper that reaps its other
   * children passes one that records each pid, so it leaves these to Node to wait for.
   */
  spawn?: SpawnRuntime;
}

/**
 * File descriptors handed to the runtime as its 0, 1, 2 (and to the container it creates).
 * They must be real pipes, FIFOs, ttys or files: never Node's 'pipe' stdio, which is a
 * socketpair. A missing one is /dev/null.
 */
export interface RuncIO {
  stdin?: number;
  stdout?: number;
  stderr?: number;
}

/** `runc state` / `runc list --format json` entry. */
export interface RuncState {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export interface CreateOptions {
  bundle: string;
  pidFile: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  io?: RuncIO;
  /** Passed as fds 3, 4, … with `--preserve-fds N`. */
  extraFds?: number[];
}

export interface ExecOptions {
  pidFile: string;
  consoleSocket?: string;
  detach: boolean;
  io?: RuncIO;
}

export interface CheckpointOptions {
  imagePath: string;
  workPath?: string;
  parentPath?: string;
  allowOpenTcp?: boolean;
  allowExternalUnixSockets?: boolean;
  allowTerminal?: boolean;
  criuPageServer?: string;
  fileLocks?: boolean;
  cgroupsMode?: "soft" | "full" | "strict";
  emptyNamespaces?: string[];
  lazyPages?: boolean;
  /** `--leave-running` */
  leaveRunning?: boolean;
  /** `--pre-dump` */
  preDump?: boolean;
}

export interface RestoreOptions extends Omit<CheckpointOptions, "leaveRunning" | "preDump"> {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  detach?: boolean;
  noPivot?: boolean;
  noSubreaper?: boolean;
  io?: RuncIO;
}

export interface RuncVersion {
  runc: string;
  commit: string;
  spec: string;
}
