import { accessSync, constants, existsSync, realpathSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { errInvalidArgument, errNotFound } from "@containerd-ts/errdefs";

/**
 * `io.containerd.runc.v2` → `containerd-shim-runc-v2`: the last two dot-separated parts name
 * the shim, as in containerd. Returns undefined for a name with fewer than two parts.
 */
export function shimBinaryName(runtime: string): string | undefined {
  const parts = runtime.split(".");
  if (parts.length < 2) return undefined;
  return `containerd-shim-${parts[parts.length - 2]}-${parts[parts.length - 1]}`;
}

export interface ShimLookup {
  /** PATH to search (defaults to process.env.PATH) */
  readonly path?: string;
  /** directories searched after PATH: beside the daemon executable, the project's node_modules/.bin */
  readonly fallbackDirs?: readonly string[];
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a runtime name (or absolute path) to the shim binary, like containerd's manager. */
export function resolveShimBinary(runtime: string, lookup: ShimLookup = {}): string {
  if (runtime === "") throw errInvalidArgument("no runtime name");
  if (isAbsolute(runtime)) {
    if (!existsSync(runtime))
      throw errNotFound(`invalid custom binary path: ${runtime}: no such file`);
    return runtime;
  }
  const name = shimBinaryName(runtime);
  if (name === undefined) {
    throw errInvalidArgument(
      `invalid runtime name ${runtime}, correct runtime name should be either format like ` +
        "`io.containerd.runc.v1` or a full path to the binary",
    );
  }
  // a relative runtime with a directory part names a file relative to the cwd (containerd)
  const beside = resolve(dirname(runtime), name);
  if (runtime.includes("/") && isExecutable(beside)) return beside;
  const pathDirs = (lookup.path ?? process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of [...pathDirs, ...(lookup.fallbackDirs ?? defaultFallbackDirs())]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return resolve(candidate);
  }
  throw errNotFound(`runtime "${runtime}" binary not installed "${name}": file does not exist`);
}

let fallbackCache: string[] | undefined;

/** Beside the daemon's entry script and every node_modules/.bin above this package. */
export function defaultFallbackDirs(): string[] {
  if (fallbackCache) return fallbackCache;
  const dirs: string[] = [];
  const entry = process.argv[1];
  if (entry) {
    try {
      dirs.push(dirname(realpathSync(entry)));
    } catch {
      dirs.push(dirname(resolve(entry)));
    }
  }
  dirs.push(dirname(process.execPath));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = join(dir, "node_modules", ".bin");
    if (existsSync(bin)) dirs.push(bin);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  fallbackCache = dirs;
  return dirs;
}

/** Cache of resolved runtimes: a lookup walks PATH, done once per runtime name. */
export class ShimResolver {
  private readonly cache = new Map<string, string>();
  constructor(private readonly lookup: ShimLookup = {}) {}

  resolve(runtime: string): string {
    const hit = this.cache.get(runtime);
    if (hit !== undefined && existsSync(hit)) return hit;
    const path = resolveShimBinary(runtime, this.lookup);
    this.cache.set(runtime, path);
    return path;
  }
}
