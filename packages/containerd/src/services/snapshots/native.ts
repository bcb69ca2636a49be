import { execFile } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { errInternal } from "@containerd-ts/errdefs";
import type { SnapshotKind } from "../../store/snapshots.js";

const run = promisify(execFile);

/** containerd's directory for the native snapshotter under the daemon root. */
export const NATIVE_PLUGIN_DIR = "io.containerd.snapshotter.v1.native";

/** A mount as the Mount message carries it. */
export interface MountSpec {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

export interface Usage {
  size: number;
  inodes: number;
}

/**
 * The native snapshotter's storage: one plain directory per snapshot under
 * <root>/snapshots/<id>. An active snapshot starts as a full copy of its parent (no
 * overlay), a view of a committed parent reads the parent's own directory.
 */
export class NativeStorage {
  readonly snapshotsDir: string;

  constructor(readonly root: string) {
    this.snapshotsDir = join(root, "snapshots");
  }

  dir(id: number): string {
    return join(this.snapshotsDir, String(id));
  }

  /**
   * Makes the directory of a new snapshot (copying the parent's when there is one) under a
   * temporary name; `place` renames it to its id once the metadata says so.
   */
  async create(
    parentId: number | undefined,
  ): Promise<{ path: string; place(id: number): Promise<void> }> {
    await mkdir(this.snapshotsDir, { recursive: true, mode: 0o700 });
    const path = await mkdtemp(join(this.snapshotsDir, "new-"));
    try {
      await chmod(path, 0o755);
      // cp -a keeps owners, modes, times, hard links, devices and xattrs (containerd's CopyDir)
      if (parentId !== undefined) await run("cp", ["-a", `${this.dir(parentId)}/.`, path]);
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      throw errInternal(`copying of parent failed: ${(err as Error).message}`);
    }
    return {
      path,
      place: async (id) => {
        await rename(path, this.dir(id));
      },
    };
  }

  /** Drops a directory made by create that never got its id. */
  async discard(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  /** The bind mount native hands out: the snapshot's own dir, or a view's committed parent. */
  mounts(kind: SnapshotKind, id: number, parentId: number | undefined): MountSpec[] {
    const own = kind === "active" || parentId === undefined;
    return [
      {
        type: "bind",
        source: this.dir(own ? id : parentId),
        options: ["rbind", kind === "view" ? "ro" : "rw"],
      },
    ];
  }

  /** Whether a snapshot of this kind has a directory of its own. */
  static ownsDir(kind: SnapshotKind, hasParent: boolean): boolean {
    return kind !== "view" || !hasParent;
  }

  /** Disk usage like containerd's fs.DiskUsage: allocated bytes and inodes, each counted once. */
  async usage(id: number): Promise<Usage> {
    const seen = new Set<number>();
    let size = 0;
    const walk = async (path: string): Promise<void> => {
      const st = await lstat(path, { bigint: false });
      if (!seen.has(st.ino)) {
        seen.add(st.ino);
        size += st.blocks * 512;
      }
      if (st.isDirectory()) {
        for (const name of await readdir(path)) await walk(join(path, name));
      }
    };
    try {
      await walk(this.dir(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return { size, inodes: seen.size };
  }

  /** Numeric directory names present (and leftover new-/rm- directories). */
  async directories(): Promise<{ ids: number[]; stale: string[] }> {
    let names: string[];
    try {
      names = await readdir(this.snapshotsDir);
    } catch {
      return { ids: [], stale: [] };
    }
    const ids = names.filter((n) => /^\d+$/.test(n)).map(Number);
    const stale = names.filter((n) => n.startsWith("rm-"));
    return { ids, stale };
  }

  /** Removes a snapshot's directory: renamed first, so a crash never leaves half of one under its id. */
  async remove(id: number): Promise<void> {
    const doomed = join(this.snapshotsDir, `rm-${id}`);
    try {
      await rename(this.dir(id), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  async removeStale(name: string): Promise<void> {
    await rm(join(this.snapshotsDir, name), { recursive: true, force: true });
  }
}
