import { spawn } from "node:child_process";

/** Running clients (ctr, ctr-ts, runtimes) against the daemons of the tests. */

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** written to stdin, then EOF; without it stdin is /dev/null */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** SIGKILL after this long (a hung client must not hang the suite) */
  timeoutMs?: number;
}

/** Runs a command to its end and collects its output. */
export function runCommand(
  cmd: string,
  args: string[],
  o: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: o.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer =
      o.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    if (child.stdin) {
      // the command may exit before it reads its input
      child.stdin.on("error", () => {});
      child.stdin.end(o.input);
    }
  });
}

/** A long-running client (`ctr events`…) whose output accumulates until stop(). */
export function spawnCollected(
  cmd: string,
  args: string[],
): { output: () => string; stop: () => Promise<void> } {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
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
