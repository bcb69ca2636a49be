import { spawn } from "node:child_process";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { ContainerdError, ErrorKind } from "@containerd-ts/errdefs";
import {
  DeleteResponseSchema,
  type DeleteResponse,
} from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";

/** What every shim command line carries (containerd's shim.Command). */
export interface ShimCommandConfig {
  readonly binary: string;
  readonly namespace: string;
  readonly id: string;
  readonly bundlePath: string;
  /** the daemon's gRPC socket path */
  readonly address: string;
  /** the daemon's ttrpc socket path (`<address>.ttrpc`) */
  readonly ttrpcAddress: string;
  /** passed as -publish-binary */
  readonly publishBinary: string;
  readonly debug?: boolean;
}

export function commandEnv(cfg: ShimCommandConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // costs ~85 ms per Node start and a shim needs no extra CAs
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NOTIFY_SOCKET;
  env.GOMAXPROCS = "2";
  env.TTRPC_ADDRESS = cfg.ttrpcAddress;
  env.GRPC_ADDRESS = cfg.address;
  env.NAMESPACE = cfg.namespace;
  return env;
}

function commonArgs(cfg: ShimCommandConfig): string[] {
  return [
    "-namespace",
    cfg.namespace,
    "-address",
    cfg.address,
    "-publish-binary",
    cfg.publishBinary,
  ];
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  /** stdout and stderr interleaved in arrival order (Go's CombinedOutput) */
  combined: Buffer;
}

/**
 * Runs a shim action to completion with a deadline. Waits for the process to exit and its
 * pipes to drain; a grandchild that kept the pipes open cannot hold us past a short grace.
 */
function runShim(
  cfg: ShimCommandConfig,
  args: string[],
  stdin: Uint8Array | undefined,
  timeoutMs: number,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cfg.binary, [...commonArgs(cfg), ...args], {
      cwd: cfg.bundlePath,
      env: commandEnv(cfg),
      // own session and process group: a signal to the daemon's group never reaches shims
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const all: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => {
      out.push(b);
      all.push(b);
    });
    child.stderr.on("data", (b: Buffer) => {
      err.push(b);
      all.push(b);
    });
    let done = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(grace);
      child.stdout.destroy();
      child.stderr.destroy();
      if (error) return reject(error);
      resolve({
        code: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        combined: Buffer.concat(all),
      });
    };
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      finish(
        new ContainerdError(
          ErrorKind.DeadlineExceeded,
          `shim ${args[args.length - 1]} for ${cfg.id} timed out after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    child.on("error", (e) => finish(e));
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      grace = setTimeout(() => finish(), 200);
    });
    child.on("close", () => finish());
    child.stdin.on("error", () => {});
    if (stdin && stdin.length > 0) child.stdin.end(Buffer.from(stdin));
    else child.stdin.end();
  });
}

function exitText(r: RunResult): string {
  return r.signal ? `signal: ${r.signal}` : `exit status ${r.code}`;
}

/**
 * `<shim> … -id ID [-debug] start`: returns the ttrpc address the shim printed (trimmed
 * stdout+stderr, `unix:///…`). Runtime options travel on stdin as a serialized Any.
 */
export async function shimStart(
  cfg: ShimCommandConfig,
  options: Any | undefined,
  timeoutMs: number,
): Promise<string> {
  const args = ["-id", cfg.id, ...(cfg.debug ? ["-debug"] : []), "start"];
  const stdin = options ? toBinary(AnySchema, options) : undefined;
  const r = await runShim(cfg, args, stdin, timeoutMs);
  const output = r.combined.toString("utf8").trim();
  if (r.code !== 0) {
    throw new ContainerdError(ErrorKind.Unknown, `${output}: ${exitText(r)}`);
  }
  if (output === "") throw new ContainerdError(ErrorKind.Unknown, "shim start printed no address");
  return output;
}

/**
 * `<shim> … -id ID -bundle B delete`: cleans up after a dead shim; prints a raw
 * containerd.task.v2.DeleteResponse on stdout.
 */
export async function shimDeleteAction(
  cfg: ShimCommandConfig,
  timeoutMs: number,
): Promise<DeleteResponse> {
  const args = ["-id", cfg.id, "-bundle", cfg.bundlePath, "delete"];
  const r = await runShim(cfg, args, undefined, timeoutMs);
  if (r.code !== 0) {
    throw new ContainerdError(
      ErrorKind.Unknown,
      `${r.stderr.toString("utf8").trim()}: ${exitText(r)}`,
    );
  }
  return fromBinary(DeleteResponseSchema, r.stdout);
}

/** `unix:///path` → `/path`; `unix://@name` (abstract, old shims) → `\0name`. */
export function socketPathOf(address: string): string {
  const path = address.startsWith("unix://") ? address.slice("unix://".length) : address;
  return path.startsWith("@") ? "\0" + path.slice(1) : path;
}
