import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Options } from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import { trackedSpawn } from "./tracked-spawn.js";

/** fds handed to the runtime as its 0, 1, 2 (and so to the container). Absent → /dev/null. */
export interface RuntimeIO {
  stdin?: number;
  stdout?: number;
  stderr?: number;
}

/**
 * The subset of the runc CLI the shim drives (the agreed RuncClient interface). Errors are
 * ContainerdErrors whose message is the runtime's last logged error.
 */
export interface OciRuntime {
  create(
    id: string,
    o: {
      bundle: string;
      pidFile: string;
      consoleSocket?: string;
      noPivot?: boolean;
      noNewKeyring?: boolean;
      io?: RuntimeIO;
    },
  ): Promise<void>;
  start(id: string): Promise<void>;
  kill(id: string, signal: number, o?: { all?: boolean }): Promise<void>;
  delete(id: string, o?: { force?: boolean }): Promise<void>;
  exec(
    id: string,
    process: object,
    o: { pidFile: string; consoleSocket?: string; detach: boolean; io?: RuntimeIO },
  ): Promise<void>;
  ps(id: string): Promise<number[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: object): Promise<void>;
  stats(id: string): Promise<object>;
  checkpoint(id: string, o: CheckpointRequest): Promise<void>;
  /** Returns the runtime's exit status. */
  restore(
    id: string,
    o: {
      bundle: string;
      imagePath: string;
      workPath?: string;
      parentPath?: string;
      pidFile: string;
      consoleSocket?: string;
      detach: boolean;
      noPivot?: boolean;
      noSubreaper: boolean;
      io?: RuntimeIO;
    },
  ): Promise<number>;
}

/** What a checkpoint asks of the runtime (runc's CRIU flags, from containerd's CheckpointOptions). */
export interface CheckpointRequest {
  imagePath: string;
  workPath?: string;
  leaveRunning?: boolean;
  allowOpenTcp?: boolean;
  allowExternalUnixSockets?: boolean;
  allowTerminal?: boolean;
  fileLocks?: boolean;
  emptyNamespaces?: string[];
  cgroupsMode?: "soft" | "full" | "strict";
}

export interface RuntimeConfig {
  binary: string;
  root: string;
  log: string;
  logFormat: "json";
  systemdCgroup?: boolean;
  criu?: string;
}

/** Where runc keeps state unless Options.Root says otherwise (the runc shim's RuncRoot). */
export const DEFAULT_RUNTIME_ROOT = "/run/containerd/runc";
/** Overrides the default runtime binary (tests, or a machine without runc-ts). */
export const RUNTIME_ENV = "CONTAINERD_TS_RUNC";
/** The runtime used when neither the options nor the environment name one. */
export const DEFAULT_RUNTIME = "runc-ts";

/**
 * The runtime binary for a container: Options.BinaryName, else $CONTAINERD_TS_RUNC, else the
 * default; `runc-ts` is looked up on PATH, then in the node_modules/.bin beside this package.
 */
export function resolveRuntimeBinary(
  o: Pick<Options, "binaryName">,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const name = o.binaryName || env[RUNTIME_ENV] || DEFAULT_RUNTIME;
  if (name.includes("/")) return name;
  if (onPath(name, env.PATH ?? "")) return name;
  const beside = besidePackage(name);
  return beside ?? name;
}

function onPath(name: string, path: string): boolean {
  return path.split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, name)));
}

function besidePackage(name: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "node_modules", ".bin", name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function runtimeConfig(bundle: string, namespace: string, o: Options): RuntimeConfig {
  return {
    binary: resolveRuntimeBinary(o),
    root: join(o.root || DEFAULT_RUNTIME_ROOT, namespace),
    log: join(bundle, "log.json"),
    logFormat: "json",
    systemdCgroup: o.systemdCgroup || undefined,
    criu: o.criuPath || undefined,
  };
}

export type RuntimeFactory = (config: RuntimeConfig) => Promise<OciRuntime>;

/**
 * Builds the shared RuncClient (loaded lazily: the shim starts faster without it); for this
 * install's runc-ts, wrapped so that commands needing no new process run in the shim itself.
 */
export const runcClientFactory: RuntimeFactory = async (config) => {
  const [{ RuncClient }, { inProcessWhenOwn }] = await Promise.all([
    import("@containerd-ts/runc/client/index.js"),
    import("./runtime-inprocess.js"),
  ]);
  // the serving shim is subreaper: its reaper must know these children are Node's to wait for
  const client: OciRuntime = new RuncClient({ ...config, spawn: trackedSpawn });
  return inProcessWhenOwn(config, client);
};
