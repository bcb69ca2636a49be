import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The process side of every daemon the tests and benches start (the real containerd and
 * containerd-ts alike): spawn with its output collected, wait until it answers on its socket,
 * stop it with a grace period. No node:test import and no work at import time, so the benches
 * can use it too.
 */

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** PATH plus the workspace bins: the daemons find containerd-shim-ts-v2 and runc-ts there. */
export function testPath(): string {
  return `${process.env.PATH}:${join(REPO, "node_modules", ".bin")}`;
}

/** The environment a daemon runs with unless told otherwise. */
export function daemonEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: testPath() };
}

export interface DaemonProcess {
  proc: ChildProcess;
  /** everything the daemon printed so far (stdout and stderr interleaved) */
  log(): string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** called with every chunk the daemon prints, besides collecting it for log() */
  onOutput?: (text: string) => void;
}

/** Spawns a daemon with stdin closed and its stdout and stderr collected. */
export function spawnDaemon(cmd: string, args: string[], o: SpawnOptions = {}): DaemonProcess {
  const proc = spawn(cmd, args, { env: o.env ?? daemonEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const collect = (b: Buffer) => {
    const text = b.toString();
    log += text;
    o.onOutput?.(text);
  };
  proc.stdout!.on("data", collect);
  proc.stderr!.on("data", collect);
  return { proc, log: () => log };
}

/** A daemon that exited while we waited for it; `log` is what it printed. */
export class DaemonExitedError extends Error {
  constructor(
    readonly code: number | null,
    readonly log: string,
    what: string,
  ) {
    super(`${what} exited ${code}: ${log}`);
  }
}

export interface WaitOptions {
  /** how long to keep trying (a generous give-up, never a timing assertion) */
  giveUpMs?: number;
  /** the daemon's name in errors */
  what?: string;
}

/**
 * Polls until the daemon's socket exists and `isUp` says it answers. Throws DaemonExitedError
 * when the daemon exits first, and an error with its output when it never answers (after
 * killing it: a daemon that failed to start is nobody's to stop).
 */
export async function waitUntilUp(
  d: DaemonProcess,
  address: string,
  isUp: () => Promise<boolean>,
  o: WaitOptions = {},
): Promise<void> {
  const what = o.what ?? "daemon";
  const deadline = Date.now() + (o.giveUpMs ?? 20_000);
  while (Date.now() < deadline) {
    if (d.proc.exitCode !== null) throw new DaemonExitedError(d.proc.exitCode, d.log(), what);
    if (existsSync(address) && (await isUp())) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  d.proc.kill("SIGKILL");
  throw new Error(`${what} did not come up: ${d.log()}`);
}

export interface StopOptions {
  /** the first signal: SIGTERM for a clean stop, SIGKILL for a crash */
  signal?: NodeJS.Signals;
  /** SIGKILL follows when the daemon has not exited after this long */
  graceMs?: number;
}

/**
 * Signals the daemon and resolves with its exit code once it has exited (null when a signal
 * ended it, or when it had already gone); SIGKILL follows after the grace period.
 */
export async function stopDaemon(
  proc: ChildProcess | undefined,
  o: StopOptions = {},
): Promise<number | null> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  proc.kill(o.signal ?? "SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), o.graceMs ?? 10_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
