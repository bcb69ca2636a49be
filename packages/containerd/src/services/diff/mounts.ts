import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import type { MountSpec } from "../snapshots/native.js";

/** mount(2) flags for the options containerd's mount package knows; the rest is data. */
const FLAGS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: 0x1 },
  rw: { clear: 0x1 },
  bind: { set: 0x1000 },
  rbind: { set: 0x1000 | 0x4000 },
  nosuid: { set: 0x2 },
  nodev: { set: 0x4 },
  noexec: { set: 0x8 },
};
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_RDONLY = 0x1;
const MNT_DETACH = 2;

export function mountFlags(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAGS[o];
    if (!f) data.push(o);
    else flags = (flags | (f.set ?? 0)) & ~(f.clear ?? 0);
  }
  return { flags, data: data.join(",") };
}

/**
 * Runs `fn` on a directory showing the mounts. A single bind mount needs no mounting:
 * its source is that directory (what mounting it would show). Anything else is mounted on
 * a temporary directory through packages/sys and unmounted afterwards.
 */
export async function withMounts<T>(
  mounts: readonly MountSpec[],
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  if (mounts.length === 0) throw errInvalidArgument("no mounts given: invalid argument");
  const [first] = mounts;
  if (mounts.length === 1 && first!.type === "bind") return fn(first!.source);
  const { libc } = await import("@containerd-ts/sys");
  const sys = libc();
  const dir = await mkdtemp(join(tmpdir(), "containerd-mount"));
  let mounted = 0;
  try {
    for (const m of mounts) {
      const { flags, data } = mountFlags(m.options);
      const bindRo = (flags & MS_BIND) !== 0 && (flags & MS_RDONLY) !== 0;
      sys.mount(
        m.source,
        dir,
        m.type === "bind" ? null : m.type,
        flags & ~(bindRo ? MS_RDONLY : 0),
        data || null,
      );
      mounted++;
      // a read-only bind needs a remount to become read-only
      if (bindRo) sys.mount(null, dir, null, flags | MS_REMOUNT, null);
    }
    return await fn(dir);
  } finally {
    for (; mounted > 0; mounted--) sys.umount2(dir, MNT_DETACH);
    await rmdir(dir);
  }
}
