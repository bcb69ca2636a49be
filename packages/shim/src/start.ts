import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  constants,
} from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { v1MountPoints, v2MountPoint } from "./cgroups.js";
import type { ShimFlags } from "./flags.js";
import { shimCgroupFromOptionsAny } from "./wire.js";
import { SOCKET_PATH_LIMIT, socketAddress, socketPath, writeFileAtomic } from "./paths.js";

/** Annotations that put several containers in one shim, in order of precedence. */
export const GROUP_LABELS = [
  "io.containerd.ts.v2.group",
  "io.containerd.runc.v2.group",
  "io.kubernetes.cri.sandbox-id",
];

/** The id the shim socket is named after: a grouping annotation of config.json, else the id. */
export function groupingId(bundle: string, id: string): string {
  try {
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as {
      annotations?: Record<string, string>;
    };
    for (const label of GROUP_LABELS) {
      const g = spec.annotations?.[label];
      if (g) return g;
    }
  } catch {
    // no readable spec: one shim per container
  }
  return id;
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function canConnect(path: string, timeoutMs = 100): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** The listening socket, or undefined when a live shim already serves it (grouping). */
async function createSocket(path: string): Promise<Server | undefined> {
  if (path.length > SOCKET_PATH_LIMIT)
    throw errInvalidArgument(`${path}: unix socket path too long (> ${SOCKET_PATH_LIMIT})`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    return await listen(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
  }
  if (await canConnect(path)) return undefined;
  rmSync(path, { force: true });
  return listen(path);
}

/** The shim's stderr: the bundle's `log` FIFO (O_RDWR never blocks and never gets EPIPE). */
function openLogFifo(bundle: string): number | "ignore" {
  const p = join(bundle, "log");
  try {
    if (existsSync(p) && statSync(p).isFIFO()) return openSync(p, constants.O_RDWR);
  } catch {
    // no log: stderr goes nowhere
  }
  return "ignore";
}

/** The shim's score one above its parent's, so the OOM killer takes the shim before the daemon. */
function adjustOomScore(pid: number): void {
  try {
    const parent = Number.parseInt(
      readFileSync(`/proc/${process.ppid}/oom_score_adj`, "utf8").trim(),
      10,
    );
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(Math.min(parent + 1, 1000)));
  } catch {
    // best effort, as in containerd's shim when not permitted
  }
}

/** Moves the shim into Options.ShimCgroup: every v1 hierarchy that has it, else the unified one. */
function joinShimCgroup(pid: number, cgroup: string): void {
  const v1 = new Set(v1MountPoints().values());
  const roots =
    v1.size > 0 ? [...v1] : [v2MountPoint()].filter((r): r is string => r !== undefined);
  for (const root of roots) {
    const procs = join(root, cgroup, "cgroup.procs");
    if (existsSync(procs)) writeFileSync(procs, String(pid));
  }
}

/**
 * Node flags of the long-running shim: one V8 helper thread is enough for an idle shim. No
 * V8 flags by default: any of them (--max-semi-space-size, --lite-mode…) changes V8's flag
 * hash, Node's built-in code cache is then rejected and every built-in module the shim loads
 * is compiled from source (≈ 25 ms per start, measured with bench/); the memory they save
 * is start-up garbage that V8's memory reducer returns a few seconds later anyway.
 * Overridable for measurements.
 */
export const SHIM_NODE_FLAGS_ENV = "CONTAINERD_TS_SHIM_NODE_FLAGS";
export const DEFAULT_NODE_FLAGS: readonly string[] = ["--v8-pool-size=1"];

/** The V8 flags a long-running shim is started with (for anyone who starts one). */
export function shimNodeFlags(): string[] {
  const v = process.env[SHIM_NODE_FLAGS_ENV];
  return v === undefined ? [...DEFAULT_NODE_FLAGS] : v.split(/\s+/).filter(Boolean);
}

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * `start`: create the ttrpc socket, write `address`, re-exec detached with the listener as
 * fd 3, and print the address (no newline). A live shim already serving the socket is reused.
 */
export async function startAction(flags: ShimFlags, entry: string): Promise<string> {
  const bundle = process.cwd();
  const shimCgroup = shimCgroupFromOptionsAny(await readStdin());
  const address = socketAddress(flags.address, flags.namespace, groupingId(bundle, flags.id));
  const path = socketPath(address);
  const server = await createSocket(path);
  if (!server) {
    writeFileAtomic("address", address);
    return address;
  }
  try {
    chmodSync(path, 0o600);
    writeFileAtomic("address", address);
    const listenFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const args = [
      ...shimNodeFlags(),
      entry,
      "-namespace",
      flags.namespace,
      "-id",
      flags.id,
      "-address",
      flags.address,
    ];
    if (flags.debug) args.push("-debug");
    const child = spawn(process.execPath, args, {
      cwd: bundle,
      detached: true,
      stdio: ["ignore", "ignore", openLogFifo(bundle), listenFd],
      env: process.env,
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    adjustOomScore(child.pid!);
    if (shimCgroup) joinShimCgroup(child.pid!, shimCgroup);
    return address;
  } catch (e) {
    // closing the listener unlinks its path; nothing is left behind
    server.close();
    throw e;
  }
}
