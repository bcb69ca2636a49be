import {
  isSyscallError,
  MNT_DETACH,
  MS_BIND,
  MS_DIRSYNC,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from "@containerd-ts/sys";
import { errNotImplemented } from "@containerd-ts/errdefs";
import type { ShimSys } from "./sys.js";

/** A containerd.types.Mount, as the Create request carries the rootfs. */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
}

// option → [clear?, flag], as containerd's mount package reads them
const FLAG_OPTIONS: Readonly<Record<string, [boolean, number]>> = {
  async: [true, MS_SYNCHRONOUS],
  atime: [true, MS_NOATIME],
  bind: [false, MS_BIND],
  defaults: [false, 0],
  dev: [true, MS_NODEV],
  diratime: [true, MS_NODIRATIME],
  dirsync: [false, MS_DIRSYNC],
  exec: [true, MS_NOEXEC],
  mand: [false, MS_MANDLOCK],
  noatime: [false, MS_NOATIME],
  nodev: [false, MS_NODEV],
  nodiratime: [false, MS_NODIRATIME],
  noexec: [false, MS_NOEXEC],
  nomand: [true, MS_MANDLOCK],
  norelatime: [true, MS_RELATIME],
  nostrictatime: [true, MS_STRICTATIME],
  nosuid: [false, MS_NOSUID],
  rbind: [false, MS_BIND | MS_REC],
  relatime: [false, MS_RELATIME],
  remount: [false, MS_REMOUNT],
  ro: [false, MS_RDONLY],
  rw: [true, MS_RDONLY],
  strictatime: [false, MS_STRICTATIME],
  suid: [true, MS_NOSUID],
  sync: [false, MS_SYNCHRONOUS],
};
const PROPAGATION: Readonly<Record<string, number>> = {
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

export interface MountPlan {
  flags: number;
  propagation: number;
  data: string;
}

/** Splits mount options into flags, a propagation change and the filesystem's data string. */
export function parseMountOptions(options: readonly string[]): MountPlan {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = f[0] ? flags & ~f[1] : flags | f[1];
    else if (PROPAGATION[o] !== undefined) propagation = PROPAGATION[o]!;
    else if (o === "loop") throw errNotImplemented("loop mounts are not supported");
    else data.push(o);
  }
  return { flags, propagation, data: data.join(",") };
}

/** Mounts one rootfs component on target (a read-only bind needs a second, remount call). */
export function mountOne(sys: ShimSys, m: MountSpec, target: string): void {
  const plan = parseMountOptions(m.options);
  const { flags, data } = plan;
  sys.mount(m.source, target, m.type, flags, data || null);
  if (flags & MS_BIND && flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) {
    sys.mount(null, target, null, flags | MS_REMOUNT, null);
  }
  if (plan.propagation) sys.mount(null, target, null, plan.propagation, null);
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
