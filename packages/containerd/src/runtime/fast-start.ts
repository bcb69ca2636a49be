import { spawn } from "node:child_process";
import { closeSync, constants, openSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { chmod, lstat, mkdir, rename } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { OptionsSchema } from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import {
  SOCKET_PATH_LIMIT,
  socketAddress,
  socketPath,
  writeFileAtomic,
} from "@containerd-ts/shim/paths.js";
import { GROUP_LABELS, shimNodeFlags } from "@containerd-ts/shim/start.js";
import { commandEnv, type ShimCommandConfig } from "./shim-command.js";

/**
 * The fast path for our own shim (design: "the daemon creates the shim's socket itself and
 * hands the listener to one long-running shim as fd 3"): one Node start instead of two
 * (`start`, then its re-exec). The result is exactly what the `start` action leaves: the
 * socket at the same address, the `address` file, the shim serving with fd 3, stderr on the
 * bundle's `log` FIFO. Anything unusual (grouping, a shim cgroup, a busy socket) takes the
 * ordinary `start` action instead.
 */

let ownShimEntries: string[] | undefined;

/**
 * Real paths of @containerd-ts/shim's entries in this install: the bundle its bin points to,
 * and the unbundled dist/main.js (either may be configured as the shim binary).
 */
function ownShimMains(): string[] {
  ownShimEntries ??= ["bundle/containerd-shim-ts-v2.cjs", "main.js"].flatMap((file) => {
    try {
      return [realpathSync(fileURLToPath(import.meta.resolve(`@containerd-ts/shim/${file}`)))];
    } catch {
      return [];
    }
  });
  return ownShimEntries;
}

const realpaths = new Map<string, string>();

/** The entry script of a resolved shim binary when it is this project's containerd-shim-ts-v2. */
function ownShimEntry(binary: string): string | undefined {
  const mains = ownShimMains();
  if (mains.length === 0) return undefined;
  let real = realpaths.get(binary);
  if (real === undefined) {
    try {
      real = realpathSync(binary);
    } catch {
      return undefined;
    }
    realpaths.set(binary, real);
  }
  return mains.includes(real) ? real : undefined;
}

/** Whether a resolved shim binary is this project's containerd-shim-ts-v2. */
export function isOwnShim(binary: string): boolean {
  return ownShimEntry(binary) !== undefined;
}

/** Grouping annotations or a shim cgroup need the `start` action's logic. */
function needsStartAction(spec: Uint8Array, options: Any | undefined): boolean {
  try {
    const parsed = JSON.parse(Buffer.from(spec).toString("utf8")) as {
      annotations?: Record<string, string>;
    };
    if (GROUP_LABELS.some((l) => parsed.annotations?.[l])) return true;
  } catch {
    return true;
  }
  if (options && options.typeUrl.endsWith("containerd.runc.v1.Options")) {
    try {
      if (fromBinary(OptionsSchema, options.value).shimCgroup !== "") return true;
    } catch {
      return true;
    }
  }
  return false;
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

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The OOM killer should take a shim before the daemon (as the start action does). */
function adjustOomScore(pid: number): void {
  try {
    const own = Number.parseInt(readFileSync("/proc/self/oom_score_adj", "utf8").trim(), 10);
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(Math.min(own + 1, 1000)));
  } catch {
    // best effort
  }
}

/**
 * Starts our shim without its `start` action; returns the address, or undefined when the
 * ordinary `start` action must be used.
 */
export async function fastStartOwnShim(
  cfg: ShimCommandConfig,
  spec: Uint8Array,
  options: Any | undefined,
): Promise<string | undefined> {
  const main = ownShimEntry(cfg.binary);
  if (main === undefined || needsStartAction(spec, options)) return undefined;
  const address = socketAddress(cfg.address, cfg.namespace, cfg.id);
  const path = socketPath(address);
  const tmp = `${path}.${process.pid}`;
  if (tmp.length > SOCKET_PATH_LIMIT || (await exists(path))) return undefined;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // bound under a temporary name, then renamed: closing our copy of the listener later makes
  // Node unlink the name it bound, which by then no longer exists
  const server = await listen(tmp);
  let logFd: number | undefined;
  try {
    await chmod(tmp, 0o600);
    await rename(tmp, path);
    writeFileAtomic(join(cfg.bundlePath, "address"), address);
    logFd = openSync(join(cfg.bundlePath, "log"), constants.O_RDWR);
    const listenFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const args = [
      ...shimNodeFlags(),
      main,
      "-namespace",
      cfg.namespace,
      "-id",
      cfg.id,
      "-address",
      cfg.address,
      ...(cfg.debug ? ["-debug"] : []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: cfg.bundlePath,
      detached: true,
      stdio: ["ignore", "ignore", logFd, listenFd],
      env: commandEnv(cfg),
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    adjustOomScore(child.pid!);
    return address;
  } catch (err) {
    await rename(path, tmp).catch(() => {});
    throw err;
  } finally {
    if (logFd !== undefined) closeSync(logFd);
    server.close();
  }
}
