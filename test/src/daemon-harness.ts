import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Transport } from "@connectrpc/connect";

/**
 * containerd-ts (the built dist/main.js) on a temp socket/root/state, driven by the real
 * `ctr` from Debian's containerd package and by connect-node gRPC clients.
 */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end with stdin closed (ctr may exit before reading any input). */
export function run(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const here = dirname(fileURLToPath(import.meta.url));
export const DAEMON_MAIN = resolve(here, "..", "..", "packages", "containerd", "dist", "main.js");

export class MetadataDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), "ctd-meta-e2e-"));
  readonly address = join(this.dir, "containerd.sock");
  readonly root = join(this.dir, "root");
  readonly state = join(this.dir, "state");
  private proc: ChildProcess | undefined;
  log = "";

  /** Spawns the daemon without waiting (for tests that expect it to fail). */
  spawn(extra: string[] = []): ChildProcess {
    const args = [
      DAEMON_MAIN,
      "--address",
      this.address,
      "--root",
      this.root,
      "--state",
      this.state,
    ];
    const proc = spawn(process.execPath, [...args, ...extra], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout?.on("data", (b: Buffer) => (this.log += b.toString()));
    proc.stderr?.on("data", (b: Buffer) => (this.log += b.toString()));
    return proc;
  }

  /** Starts the daemon and waits until the real ctr gets an answer from it. */
  async start(): Promise<void> {
    const proc = this.spawn();
    this.proc = proc;
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`daemon exited ${proc.exitCode}: ${this.log}`);
      if (existsSync(this.address) && (await this.ctr(["version"])).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`daemon did not come up: ${this.log}`);
  }

  /** Sends a signal and waits for the exit; returns the exit code (null if killed). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    proc.kill(signal);
    return exited;
  }

  /** The real ctr against this daemon. */
  ctr(args: string[], namespace?: string): Promise<RunResult> {
    const ns = namespace ? ["-n", namespace] : [];
    return run("ctr", ["-a", this.address, ...ns, ...args]);
  }

  /** A long-running real ctr (events) whose output accumulates until stop(). */
  spawnCtr(args: string[]): { output: () => string; stop: () => Promise<void> } {
    const child = spawn("ctr", ["-a", this.address, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    return {
      output: () => out,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("close", r));
        child.kill("SIGTERM");
        await exited;
      },
    };
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

export const hasRealCtr = await run("ctr", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);
