import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Transport } from "@connectrpc/connect";
import { DAEMON_MAIN, spawnContainerdTs } from "./containerd-ts.js";
import { runCommand, spawnCollected, type CommandResult } from "./commands.js";
import { stopDaemon, waitUntilUp } from "./daemon-process.js";
import { spawnContainerd, writeContainerdConfig } from "./real-containerd.js";

/**
 * containerd-ts (the built dist/main.js) on a temp socket/root/state, driven by the real
 * `ctr` from Debian's containerd package and by connect-node gRPC clients.
 */
export type RunResult = CommandResult;

/** Runs a command to its end with stdin closed (ctr may exit before reading any input). */
export function run(cmd: string, args: string[]): Promise<RunResult> {
  return runCommand(cmd, args);
}

export { DAEMON_MAIN };

export class MetadataDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), "ctd-meta-e2e-"));
  readonly address = join(this.dir, "containerd.sock");
  readonly root = join(this.dir, "root");
  readonly state = join(this.dir, "state");
  private proc: ChildProcess | undefined;
  log = "";

  /** Spawns the daemon without waiting (for tests that expect it to fail). */
  spawn(extra: string[] = []): ChildProcess {
    return spawnContainerdTs({
      address: this.address,
      root: this.root,
      state: this.state,
      extraArgs: extra,
      onOutput: (text) => (this.log += text),
    }).proc;
  }

  /** Starts the daemon and waits until the real ctr gets an answer from it. */
  async start(): Promise<void> {
    const proc = this.spawn();
    this.proc = proc;
    const isUp = async () => (await this.ctr(["version"])).code === 0;
    await waitUntilUp({ proc, log: () => this.log }, this.address, isUp);
  }

  /** Sends a signal and waits for the exit; returns the exit code (null if killed). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const proc = this.proc;
    this.proc = undefined;
    return stopDaemon(proc, { signal });
  }

  /** The real ctr against this daemon. */
  ctr(args: string[], namespace?: string): Promise<RunResult> {
    const ns = namespace ? ["-n", namespace] : [];
    return run("ctr", ["-a", this.address, ...ns, ...args]);
  }

  /** A long-running real ctr (events) whose output accumulates until stop(). */
  spawnCtr(args: string[]): { output: () => string; stop: () => Promise<void> } {
    return spawnCollected("ctr", ["-a", this.address, ...args]);
  }

  /** A gRPC client transport with its own HTTP/2 connection. */
  transport(): Transport {
    return createGrpcTransport({
      baseUrl: "http://localhost",
      nodeOptions: { createConnection: () => net.connect(this.address) },
    });
  }

  async cleanup(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Debian's real containerd in place of ours: the same harness, on the same kind of temp dir. */
export class RealMetadataDaemon extends MetadataDaemon {
  override spawn(): ChildProcess {
    writeContainerdConfig(this.dir, this.address);
    return spawnContainerd(this.dir, this.address, undefined, {
      root: this.root,
      state: this.state,
      onOutput: (text) => (this.log += text),
    }).proc;
  }
}

export const hasRealCtr = await run("ctr", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);
