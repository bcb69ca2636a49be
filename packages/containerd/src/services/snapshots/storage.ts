import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotKind } from "../../store/snapshots.js";

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
 * A snapshotter's storage: one directory per snapshot under <root>/snapshots/<id>, ids given
 * by the metadata. What goes in a directory and how it is mounted is the snapshotter's.
 */
export abstract class SnapshotStorage {
  readonly snapshotsDir: string;

  constructor(readonly root: string) {
    this.snapshotsDir = join(root, "snapshots");
  }

  dir(id: number): string {
    return join(this.snapshotsDir, String(id));
  }

  /** How Mounts words its refusal of a committed snapshot (containerd's differ per snapshotter). */
  abstract readonly mountsRefusal: string;

  /** Whether a snapshot of this kind has a directory of its own. */
  abstract ownsDir(kind: SnapshotKind, hasParent: boolean): boolean;

  /**
   * Makes the directory of a new snapshot under a temporary name (the caller renames it to
   * dir(id) in the transaction that records it). `parents` are ids, nearest first.
   */
  abstract create(kind: SnapshotKind, parents: readonly number[]): Promise<string>;

  /** The mounts of a snapshot whose parent chain is `parents` (ids, nearest first). */
  abstract mounts(kind: SnapshotKind, id: number, parents: readonly number[]): MountSpec[];

  /** The directory whose disk usage is the snapshot's own. */
  protected abstract usagePath(id: number): string;

  /** A fresh temporary directory in the snapshots dir. */
  protected async tempDir(): Promise<string> {
    await mkdir(this.snapshotsDir, { recursive: true, mode: 0o700 });
    const path = await mkdtemp(join(this.snapshotsDir, "new-"));
    await chmod(path, 0o755);
    return path;
  }

  /** Drops a directory made by create that never got its id. */
  async discard(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  /** Disk usage like containerd's fs.DiskUsage: allocated bytes and inodes, each counted once. */
  async usage(id: number): Promise<Usage> {
    const seen = new Set<number>();
    let size = 0;
    const walk = async (path: string): Promise<void> => {
      const st = await lstat(path);
      if (!seen.has(st.ino)) {
        seen.add(st.ino);
        size += st.blocks * 512;
      }
      if (st.isDirectory()) {
        for (const name of await readdir(path)) await walk(join(path, name));
      }
    };
    try {
      await walk(this.usagePath(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return { size, inodes: seen.size };
  }

  /** Snapshot directories present by id, and half-removed (rm-) ones. */
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
