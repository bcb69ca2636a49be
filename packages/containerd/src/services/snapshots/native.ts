import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { errInternal } from "@containerd-ts/errdefs";
import type { SnapshotKind } from "../../store/snapshots.js";
import { SnapshotStorage, type MountSpec } from "./storage.js";

const run = promisify(execFile);

/** containerd's directory for the native snapshotter under the daemon root. */
export const NATIVE_PLUGIN_DIR = "io.containerd.snapshotter.v1.native";

/**
 * The native snapshotter's storage: a plain directory per snapshot. An active snapshot
 * starts as a full copy of its parent (no overlay), a view of a committed parent reads the
 * parent's own directory.
 */
export class NativeStorage extends SnapshotStorage {
  readonly mountsRefusal = "failed to get snapshot mount";

  ownsDir(kind: SnapshotKind, hasParent: boolean): boolean {
    return kind !== "view" || !hasParent;
  }

  async create(_kind: SnapshotKind, parents: readonly number[]): Promise<string> {
    const path = await this.tempDir();
    const [parent] = parents;
    try {
      // cp -a keeps owners, modes, times, hard links, devices and xattrs (containerd's CopyDir)
      if (parent !== undefined) await run("cp", ["-a", `${this.dir(parent)}/.`, path]);
    } catch (err) {
      await this.discard(path);
      throw errInternal(`copying of parent failed: ${(err as Error).message}`);
    }
    return path;
  }

  mounts(kind: SnapshotKind, id: number, parents: readonly number[]): MountSpec[] {
    const [parent] = parents;
    const own = kind === "active" || parent === undefined;
    return [
      {
        type: "bind",
        source: this.dir(own ? id : parent),
        options: ["rbind", kind === "view" ? "ro" : "rw"],
      },
    ];
  }

  protected usagePath(id: number): string {
    return this.dir(id);
  }
}
