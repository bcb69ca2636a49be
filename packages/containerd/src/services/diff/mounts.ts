import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import type { MountSpec } from "../snapshots/storage.js";

/**
 * Runs `fn` on a directory showing the mounts. A single bind mount needs no mounting:
 * its source is that directory (what mounting it would show). Anything else (overlay) is
 * mounted on a temporary directory the way the shim mounts a rootfs, and unmounted after.
 */
export async function withMounts<T>(
  mounts: readonly MountSpec[],
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  if (mounts.length === 0) throw errInvalidArgument("no mounts given: invalid argument");
  const [first] = mounts;
  if (mounts.length === 1 && first!.type === "bind") return fn(first!.source);
  // loaded on first use: the daemon starts without libc unless it mounts
  const { libc } = await import("@containerd-ts/sys");
  const { mountOne, unmountAll } = await import("@containerd-ts/shim/mounts.js");
  const sys = libc();
  const dir = await mkdtemp(join(tmpdir(), "containerd-mount"));
  try {
    for (const m of mounts) mountOne(sys, m, dir);
    return await fn(dir);
  } finally {
    unmountAll(sys, dir);
    await rmdir(dir);
  }
}
