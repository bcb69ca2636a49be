import { closeSync, openSync } from "node:fs";
import {
  CLONE_FS,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
} from "@containerd-ts/sys/constants.js";
import type { Syscalls } from "@containerd-ts/sys/syscalls.js";
import type { NamespaceConfig, NamespaceType } from "../spec/config.js";

export const CLONE_FLAGS: Record<NamespaceType, number> = {
  pid: CLONE_NEWPID,
  network: CLONE_NEWNET,
  mount: CLONE_NEWNS,
  ipc: CLONE_NEWIPC,
  uts: CLONE_NEWUTS,
  cgroup: CLONE_NEWCGROUP,
};

/** the name under /proc/<pid>/ns/ */
export const PROC_NS: Record<NamespaceType, string> = {
  pid: "pid",
  network: "net",
  mount: "mnt",
  ipc: "ipc",
  uts: "uts",
  cgroup: "cgroup",
};

/**
 * Puts the main thread into the container's namespaces so the next child (the init) is born
 * in them: libuv forks from the calling thread, and unshare/setns on the main thread apply
 * to children forked afterwards. Returns a function that puts the main thread back.
 * A new cgroup namespace is left to the init (after it joined the cgroup).
 */
export function enterNamespaces(sys: Syscalls, namespaces: readonly NamespaceConfig[]): () => void {
  const saved: { fd: number; flag: number }[] = [];
  let unshareFlags = 0;
  const touched = namespaces.filter((n) => !(n.type === "cgroup" && n.path === undefined));
  if (touched.some((n) => n.type === "mount")) {
    // setns into (and back out of) a mount namespace needs a private fs_struct
    sys.unshare(CLONE_FS);
  }
  try {
    for (const n of touched) {
      const flag = CLONE_FLAGS[n.type];
      saved.push({ fd: openSync(`/proc/self/ns/${PROC_NS[n.type]}`, "r"), flag });
      if (n.path !== undefined) {
        const fd = openSync(n.path, "r");
        try {
          sys.setns(fd, flag);
        } finally {
          closeSync(fd);
        }
      } else {
        unshareFlags |= flag;
      }
    }
    if (unshareFlags) sys.unshare(unshareFlags);
  } catch (e) {
    restore();
    throw e;
  }
  function restore(): void {
    for (const s of saved.splice(0)) {
      try {
        sys.setns(s.fd, s.flag);
      } finally {
        closeSync(s.fd);
      }
    }
  }
  return restore;
}
