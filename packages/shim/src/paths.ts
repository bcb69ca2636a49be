import { createHash } from "node:crypto";
import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
  constants,
} from "node:fs";
import { basename, dirname, join, resolve, posix } from "node:path";

/** Where shim sockets live: the same place real shims use, unless the environment moves it. */
export const DEFAULT_SOCKET_DIR = "/run/containerd/s";
export const SOCKET_DIR_ENV = "CONTAINERD_TS_SHIM_SOCKET_DIR";
/** Linux sun_path holds 108 bytes; containerd refuses paths over 106. */
export const SOCKET_PATH_LIMIT = 106;

export function socketDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[SOCKET_DIR_ENV] || DEFAULT_SOCKET_DIR;
}

/**
 * `unix://<dir>/<sha256 hex>` where the digest is over the cleaned join of the daemon
 * address, namespace and id (or group), as containerd's shim.SocketAddress computes it.
 */
export function socketAddress(
  daemonAddress: string,
  namespace: string,
  id: string,
  dir = socketDir(),
): string {
  const digest = createHash("sha256")
    .update(posix.join(daemonAddress, namespace, id))
    .digest("hex");
  return `unix://${join(dir, digest)}`;
}

/** Strips `unix://`; other forms are already paths. */
export function socketPath(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}

/** Writes `path` by renaming a `.name` temp file over it, as the real shim does for `address`. */
export function writeFileAtomic(path: string, data: string): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${basename(abs)}`);
  rmSync(tmp, { force: true });
  const fd = openSync(
    tmp,
    constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_SYNC,
    0o666,
  );
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, abs);
}

export function readAddress(path: string): string | undefined {
  try {
    const s = readFileSync(path, "utf8");
    return s.length > 0 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Pid files hold a decimal pid; runc writes them without a newline. */
export function readPidFile(path: string): number {
  const text = readFileSync(path, "utf8").trim();
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0)
    throw new Error(`invalid pid file ${path}: ${JSON.stringify(text)}`);
  return pid;
}

export const initPidFile = (bundle: string) => join(bundle, "init.pid");
export const execPidFile = (bundle: string, execId: string) => join(bundle, `${execId}.pid`);
