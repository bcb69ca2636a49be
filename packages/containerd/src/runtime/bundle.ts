import {
  chmod,
  chown,
  mkdir,
  readlink,
  rename,
  rm,
  rmdir,
  symlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, basename } from "node:path";
import { errAlreadyExists, validateIdentifier } from "@containerd-ts/errdefs";
import { unmountAll } from "./mounts.js";

/** Sub-directory of the daemon's root and state dirs that holds shim v2 bundles (as containerd). */
export const TASK_DIR = "io.containerd.runtime.v2.task";

/** A shim v2 bundle: `<state>/io.containerd.runtime.v2.task/<ns>/<id>/`. */
export interface Bundle {
  readonly id: string;
  readonly namespace: string;
  readonly path: string;
}

export interface BundleRoots {
  /** `<root>/io.containerd.runtime.v2.task`: persistent work dirs */
  readonly root: string;
  /** `<state>/io.containerd.runtime.v2.task`: bundles (tmpfs in production) */
  readonly state: string;
}

export function bundleRoots(daemonRoot: string, daemonState: string): BundleRoots {
  return { root: join(daemonRoot, TASK_DIR), state: join(daemonState, TASK_DIR) };
}

export function loadBundle(roots: BundleRoots, namespace: string, id: string): Bundle {
  return { id, namespace, path: join(roots.state, namespace, id) };
}

/**
 * Creates the bundle directory with config.json (the container's spec bytes), an empty rootfs
 * dir and the `work` link to `<root>/<ns>/<id>`. On any failure nothing is left behind.
 */
export async function createBundle(
  roots: BundleRoots,
  namespace: string,
  id: string,
  spec: Uint8Array,
): Promise<Bundle> {
  validateIdentifier(namespace, "namespace");
  validateIdentifier(id, "task id");
  const bundle = loadBundle(roots, namespace, id);
  const work = join(roots.root, namespace, id);
  const created: string[] = [];
  try {
    await mkdir(dirname(bundle.path), { recursive: true, mode: 0o711 });
    await mkdir(bundle.path, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      // a bundle left by a task still being recovered, or by a crash mid-delete
      if (err.code === "EEXIST") throw errAlreadyExists(`task ${id}: bundle already exists`);
      throw err;
    });
    created.push(bundle.path);
    await applyRemappedGroup(bundle.path, spec);
    await mkdir(dirname(work), { recursive: true, mode: 0o711 });
    await mkdir(join(bundle.path, "rootfs"), { mode: 0o711 });
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { mode: 0o711 });
    created.push(work);
    await symlink(work, join(bundle.path, "work"));
    await writeFile(join(bundle.path, "config.json"), spec, { mode: 0o666 });
    return bundle;
  } catch (err) {
    for (const p of created) await rm(p, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/**
 * With a user namespace, the remapped root group must be able to enter the bundle
 * (containerd does the same: chgrp to the host gid of container gid 0, mode 0710).
 */
async function applyRemappedGroup(path: string, spec: Uint8Array): Promise<void> {
  let gid = 0;
  try {
    const parsed = JSON.parse(Buffer.from(spec).toString("utf8")) as {
      linux?: { gidMappings?: { containerID?: number; hostID?: number }[] };
    };
    for (const m of parsed.linux?.gidMappings ?? []) {
      if ((m.containerID ?? 0) === 0) {
        gid = m.hostID ?? 0;
        break;
      }
    }
  } catch {
    return; // not JSON: the shim will report the bad spec
  }
  if (gid === 0) return;
  await chown(path, -1, gid);
  await chmod(path, 0o710);
}

/**
 * Removes a bundle: unmounts its rootfs, then renames the bundle and its work dir to
 * dot-names (skipped by recovery) before removing them, so a crash half-way never leaves a
 * bundle that looks live.
 */
export async function deleteBundle(bundle: Bundle): Promise<void> {
  let work: string | undefined;
  try {
    work = await readlink(join(bundle.path, "work"));
  } catch {
    work = undefined;
  }
  const rootfs = join(bundle.path, "rootfs");
  await unmountAll(rootfs);
  await rmdir(rootfs).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await atomicDelete(bundle.path);
  if (work !== undefined) await atomicDelete(work);
}

async function atomicDelete(path: string): Promise<void> {
  const hidden = join(dirname(path), "." + basename(path));
  try {
    await rename(path, hidden);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  await rm(hidden, { recursive: true, force: true });
}
