import { existsSync, readFileSync } from "node:fs";
import { chown, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotKind } from "../../store/snapshots.js";
import { SnapshotStorage, type MountSpec } from "./storage.js";

/** containerd's directory for the overlayfs snapshotter under the daemon root. */
export const OVERLAY_PLUGIN_DIR = "io.containerd.snapshotter.v1.overlayfs";

/**
 * The overlayfs snapshotter's storage: <id>/fs is a snapshot's own layer (the upper dir while
 * active), <id>/work overlayfs's work dir. A snapshot with parents mounts as an overlay of
 * their fs dirs; without parents (or a view of one parent) it is a bind mount.
 */
export class OverlayStorage extends SnapshotStorage {
  readonly mountsRefusal = "failed to get active mount";
  /** containerd sets index=off where the kernel has the parameter. */
  private readonly indexOff = existsSync("/sys/module/overlay/parameters/index");

  /** Whether the kernel has overlayfs at all (else the plugin does not load). */
  static supported(): boolean {
    try {
      return /\toverlay$/m.test(readFileSync("/proc/filesystems", "utf8"));
    } catch {
      return false;
    }
  }

  ownsDir(): boolean {
    return true;
  }

  fsDir(id: number): string {
    return join(this.dir(id), "fs");
  }

  async create(kind: SnapshotKind, parents: readonly number[]): Promise<string> {
    const path = await this.tempDir();
    try {
      await mkdir(join(path, "fs"), { mode: 0o755 });
      if (kind === "active") await mkdir(join(path, "work"), { mode: 0o711 });
      const [parent] = parents;
      if (parent !== undefined) {
        // the upper dir's root takes its owner from the parent's, as containerd does
        const st = await stat(this.fsDir(parent));
        await chown(join(path, "fs"), st.uid, st.gid);
      }
    } catch (err) {
      await this.discard(path);
      throw err;
    }
    return path;
  }

  mounts(kind: SnapshotKind, id: number, parents: readonly number[]): MountSpec[] {
    if (parents.length === 0) {
      return [
        { type: "bind", source: this.fsDir(id), options: [kind === "view" ? "ro" : "rw", "rbind"] },
      ];
    }
    const options = this.indexOff ? ["index=off"] : [];
    if (kind === "active") {
      options.push(`workdir=${join(this.dir(id), "work")}`, `upperdir=${this.fsDir(id)}`);
    } else if (parents.length === 1) {
      return [{ type: "bind", source: this.fsDir(parents[0]!), options: ["ro", "rbind"] }];
    }
    options.push(`lowerdir=${parents.map((p) => this.fsDir(p)).join(":")}`);
    return [{ type: "overlay", source: "overlay", options }];
  }

  protected usagePath(id: number): string {
    return this.fsDir(id);
  }
}
