import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, spawnCollected, type CommandResult } from "./commands.js";
import { DAEMON_MAIN, spawnContainerdTs } from "./containerd-ts.js";
import {
  DaemonExitedError,
  daemonEnv,
  REPO,
  stopDaemon,
  waitUntilUp,
  type DaemonProcess,
} from "./daemon-process.js";
import { spawnContainerd, writeContainerdConfig } from "./real-containerd.js";

/**
 * Harness of the ctr-ts e2e tests: a daemon on a temp socket/root/state, and ctr-ts runs
 * against it. CTR_TS_E2E_DAEMON=containerd runs the same tests against Debian's real
 * containerd, which proves the tests themselves.
 */

export { REPO };
export const CTR_TS = join(REPO, "packages", "ctr", "bin", "run.js");
export const useRealContainerd = process.env.CTR_TS_E2E_DAEMON === "containerd";
export const isRoot = process.getuid?.() === 0;

export type RunResult = CommandResult;

/** Runs a process to its end, feeding `input` on stdin. */
export function runProcess(
  cmd: string,
  args: string[],
  input = "",
  env = process.env,
): Promise<RunResult> {
  return runCommand(cmd, args, { input, env });
}

export class TestDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), "ctr-ts-e2e-"));
  readonly address = join(this.dir, "containerd.sock");
  private proc?: ChildProcess;
  log = "";

  /**
   * The namespace ctr() uses unless told otherwise. The real runc shim keeps runc's state in
   * /run/containerd/runc/<namespace>, shared by every daemon on the machine, so suites that run
   * tasks pick a namespace of their own.
   */
  constructor(readonly namespace = "default") {}

  /** Starts the daemon; resolves to a reason to skip when our daemon is not there yet. */
  async start(): Promise<string | undefined> {
    const root = join(this.dir, "root");
    const state = join(this.dir, "state");
    const onOutput = (text: string) => (this.log += text);
    let d: DaemonProcess;
    if (useRealContainerd) {
      writeContainerdConfig(this.dir, this.address);
      d = spawnContainerd(this.dir, this.address, daemonEnv(), { root, state, onOutput });
    } else {
      if (!existsSync(DAEMON_MAIN)) return `${DAEMON_MAIN} is not built`;
      d = spawnContainerdTs({ address: this.address, root, state, onOutput });
    }
    this.proc = d.proc;
    const isUp = async () => (await this.ctr(["version"])).code === 0;
    try {
      await waitUntilUp(d, this.address, isUp);
    } catch (err) {
      if (err instanceof DaemonExitedError && /not yet implemented/i.test(err.log))
        return `containerd-ts daemon: ${err.log.trim()}`;
      throw err;
    }
    return undefined;
  }

  ctr(args: string[], opts: { input?: string; namespace?: string } = {}): Promise<RunResult> {
    return runProcess(
      process.execPath,
      [CTR_TS, "-a", this.address, "-n", opts.namespace ?? this.namespace, ...args],
      opts.input,
    );
  }

  /** A long-running ctr-ts (events, run -d ...) whose output is collected until it is stopped. */
  spawnCtr(args: string[]): { output: () => string; stop: () => Promise<void> } {
    return spawnCollected(process.execPath, [CTR_TS, "-a", this.address, ...args]);
  }

  async stop(): Promise<void> {
    await stopDaemon(this.proc);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` until it holds (no wall-clock assertions: only a generous give-up). */
export async function eventually(
  check: () => boolean,
  what: string,
  giveUpMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
