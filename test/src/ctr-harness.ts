import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Harness of the ctr-ts e2e tests: a daemon on a temp socket/root/state, and ctr-ts runs
 * against it. CTR_TS_E2E_DAEMON=containerd runs the same tests against Debian's real
 * containerd, which proves the tests themselves.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "..", "..");
export const CTR_TS = join(REPO, "packages", "ctr", "bin", "run.js");
const DAEMON_MAIN = join(REPO, "packages", "containerd", "dist", "main.js");
export const useRealContainerd = process.env.CTR_TS_E2E_DAEMON === "containerd";
export const isRoot = process.getuid?.() === 0;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a process to its end, feeding `input` on stdin. */
export function runProcess(
  cmd: string,
  args: string[],
  input = "",
  env = process.env,
): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(input);
  });
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
    let cmd: string;
    let args: string[];
    if (useRealContainerd) {
      const config = join(this.dir, "config.toml");
      writeFileSync(
        config,
        [
          "version = 2",
          `root = "${root}"`,
          `state = "${state}"`,
          'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
          "[grpc]",
          `  address = "${this.address}"`,
          "[ttrpc]",
          `  address = "${this.address}.ttrpc"`,
          "",
        ].join("\n"),
      );
      cmd = "containerd";
      args = ["--config", config];
    } else {
      if (!existsSync(DAEMON_MAIN)) return `${DAEMON_MAIN} is not built`;
      cmd = process.execPath;
      args = [DAEMON_MAIN, "--address", this.address, "--root", root, "--state", state];
    }
    // our shim and runc-ts are found on PATH like containerd finds containerd-shim-runc-v2
    const env = {
      ...process.env,
      PATH: `${process.env.PATH}:${join(REPO, "node_modules", ".bin")}`,
    };
    const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
    this.proc = proc;
    proc.stdout?.on("data", (b: Buffer) => (this.log += b.toString()));
    proc.stderr?.on("data", (b: Buffer) => (this.log += b.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) {
        if (/not yet implemented/i.test(this.log))
          return `containerd-ts daemon: ${this.log.trim()}`;
        throw new Error(`daemon exited ${proc.exitCode}: ${this.log}`);
      }
      if (existsSync(this.address) && (await this.ctr(["version"])).code === 0) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`daemon did not come up: ${this.log}`);
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
    const child = spawn(process.execPath, [CTR_TS, "-a", this.address, ...args], {
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

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
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
