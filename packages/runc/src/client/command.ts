import { spawn, type StdioOptions } from "node:child_process";
import { open } from "node:fs/promises";
import { ErrorKind } from "@containerd-ts/errdefs";
import { RuncError, kindOfFailure, lastLogError } from "./errors.js";
import type { RuncIO, SpawnRuntime } from "./types.js";

export interface RunOptions {
  /** Give the runtime these fds as 0, 1, 2 (and the rest from 3 on) instead of capturing its output. */
  io?: RuncIO;
  extraFds?: number[];
  /** Written to the runtime's stdin (captured mode only). */
  input?: string;
  cwd?: string;
  /** The --log file: its new `error` lines explain a failure. */
  logFile?: string;
  /** Starts the process (default: child_process.spawn). */
  spawn?: SpawnRuntime;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** go-runc drops NOTIFY_SOCKET: it makes runc talk to systemd, which only makes sense under systemd. */
function runtimeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET;
  return env;
}

async function fileSize(path: string | undefined): Promise<number> {
  if (!path) return 0;
  const fh = await open(path, "r").catch(() => undefined);
  if (!fh) return 0;
  try {
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** What the runtime appended to its log since `offset` (earlier failures are not this one's). */
async function readLogSince(path: string | undefined, offset: number): Promise<string> {
  if (!path) return "";
  const fh = await open(path, "r").catch(() => undefined);
  if (!fh) return "";
  try {
    const { size } = await fh.stat();
    const from = size >= offset ? offset : 0; // truncated meanwhile: read it all
    const buf = Buffer.alloc(size - from);
    await fh.read(buf, 0, buf.length, from);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

/**
 * Runs `binary args…` to completion. Without io, stdout and stderr are captured (fine for
 * commands whose output is ours alone); with io, the given fds are passed through as-is,
 * because the container created by the command inherits them.
 */
export async function runRuntime(
  binary: string,
  args: string[],
  command: string,
  o: RunOptions = {},
): Promise<RunResult> {
  const capture = o.io === undefined;
  const stdio: StdioOptions = capture
    ? [o.input !== undefined ? "pipe" : "ignore", "pipe", "pipe", ...(o.extraFds ?? [])]
    : [
        o.io!.stdin ?? "ignore",
        o.io!.stdout ?? "ignore",
        o.io!.stderr ?? "ignore",
        ...(o.extraFds ?? []),
      ];
  const logOffset = await fileSize(o.logFile);
  const child = (o.spawn ?? spawn)(binary, args, { cwd: o.cwd, env: runtimeEnv(), stdio });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (d: Buffer) => out.push(d));
  child.stderr?.on("data", (d: Buffer) => err.push(d));
  if (child.stdin) {
    child.stdin.on("error", () => {}); // a runtime that exits without reading must not crash us
    child.stdin.end(o.input);
  }
  const status = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    spawnError?: Error;
  }>((resolve) => {
    child.once("error", (e) => resolve({ code: null, signal: null, spawnError: e }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  const stdout = Buffer.concat(out).toString("utf8");
  const stderr = Buffer.concat(err).toString("utf8");
  if (status.spawnError) {
    throw new RuncError(
      ErrorKind.Unknown,
      `exec: ${binary}: ${status.spawnError.message}`,
      command,
      null,
      "",
      { cause: status.spawnError },
    );
  }
  if (status.code === 0) return { stdout, stderr };
  const output = (stdout + stderr).trim();
  const fromLog = lastLogError(await readLogSince(o.logFile, logOffset));
  const fromOutput = lastLogError(output);
  const exit = status.code !== null ? `exit status ${status.code}` : `signal: ${status.signal}`;
  const message =
    fromLog ??
    fromOutput ??
    (output || `${binary} ${command} did not terminate successfully: ${exit}`);
  throw new RuncError(kindOfFailure(command, message), message, command, status.code, output);
}
