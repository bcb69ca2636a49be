import { isSyscallError, MNT_DETACH, MS_BIND, MS_REC, MS_REMOUNT } from "@containerd-ts/sys";
import { errNotImplemented } from "@containerd-ts/errdefs/errors.js";
import { parseMountOptions } from "@containerd-ts/runc/init/mount-options.js";
import type { ShimSys } from "./sys.js";

/** A containerd.types.Mount, as the Create request carries the rootfs. */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
}

/**
 * Mounts one rootfs component on target, reading its options as runc does (one parser for
 * the project): a read-only bind needs a second, remount call; propagation changes come last.
 */
export function mountOne(sys: ShimSys, m: MountSpec, target: string): void {
  if (m.options.includes("loop")) throw errNotImplemented("loop mounts are not supported");
  const { flags, propagation, data } = parseMountOptions(m.options);
  sys.mount(m.source, target, m.type, flags, data);
  if (flags & MS_BIND && flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) {
    sys.mount(null, target, null, flags | MS_REMOUNT, null);
  }
  for (const p of propagation) sys.mount(null, target, null, p, null);
}

/** Unmounts everything stacked on target; not mounted or missing is success. */
export function unmountAll(sys: ShimSys, target: string): void {
  for (let i = 0; i < 64; i++) {
    try {
      sys.umount2(target, MNT_DETACH);
    } catch (e) {
      if (isSyscallError(e, "EINVAL") || isSyscallError(e, "ENOENT")) return;
      throw e;
    }
  }
}
