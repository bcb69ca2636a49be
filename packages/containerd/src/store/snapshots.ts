import type Database from "better-sqlite3";
import { decodeLabels, encodeLabels } from "./codec.js";
import type { Labels } from "./types.js";

export type SnapshotKind = "active" | "view" | "committed";

/**
 * A snapshot as one namespace sees it in one snapshotter. `backendId` names its directory
 * in the snapshotter's storage; ids are unique per snapshotter across namespaces, so a
 * directory never outlives the id that names it.
 */
export interface SnapshotRecord {
  key: string;
  backendId: number;
  /**
   * containerd's name for it in the snapshotter (`<namespace>/<sequence>/<key>`), which its
   * error messages show; "" for snapshots made before it was kept.
   */
  backendKey: string;
  kind: SnapshotKind;
  /** The parent's key in the same namespace and snapshotter ("" for none). */
  parent: string;
  labels: Labels;
  /** Disk usage recorded when committed (active snapshots are measured on demand). */
  size: number;
  inodes: number;
  createdAt: Date;
  updatedAt: Date;
}

interface SnapshotRow {
  key: string;
  backend_id: number;
  backend_key: string;
  kind: string;
  parent: string;
  labels: string;
  size: number;
  inodes: number;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  "key, backend_id, backend_key, kind, parent, labels, size, inodes, created_at, updated_at";

const toRecord = (r: SnapshotRow): SnapshotRecord => ({
  key: r.key,
  backendId: r.backend_id,
  backendKey: r.backend_key,
  kind: r.kind as SnapshotKind,
  parent: r.parent,
  labels: decodeLabels(r.labels),
  size: r.size,
  inodes: r.inodes,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const toParams = (ns: string, snapshotter: string, s: SnapshotRecord) => ({
  namespace: ns,
  snapshotter,
  key: s.key,
  backend_id: s.backendId,
  backend_key: s.backendKey,
  kind: s.kind,
  parent: s.parent,
  labels: encodeLabels(s.labels),
  size: s.size,
  inodes: s.inodes,
  created_at: s.createdAt.getTime(),
  updated_at: s.updatedAt.getTime(),
});

/** The snapshots and snapshot_sequences tables. Callers validate and wrap writes in a transaction. */
export class SnapshotTable {
  private readonly q;

  constructor(db: Database.Database) {
    const where = "namespace = ? AND snapshotter = ?";
    this.q = {
      get: db.prepare<[string, string, string], SnapshotRow>(
        `SELECT ${COLUMNS} FROM snapshots WHERE ${where} AND key = ?`,
      ),
      list: db.prepare<[string, string], SnapshotRow>(
        `SELECT ${COLUMNS} FROM snapshots WHERE ${where} ORDER BY key`,
      ),
      children: db.prepare<[string, string, string], { key: string }>(
        `SELECT key FROM snapshots WHERE ${where} AND parent = ? ORDER BY key`,
      ),
      ids: db.prepare<[string], { backend_id: number }>(
        "SELECT DISTINCT backend_id FROM snapshots WHERE snapshotter = ?",
      ),
      insert: db.prepare(
        `INSERT OR IGNORE INTO snapshots (namespace, snapshotter, ${COLUMNS})
         VALUES (@namespace, @snapshotter, @key, @backend_id, @backend_key, @kind, @parent,
                 @labels, @size, @inodes, @created_at, @updated_at)`,
      ),
      update: db.prepare(
        `UPDATE snapshots SET backend_id = @backend_id, backend_key = @backend_key, kind = @kind,
           parent = @parent,
           labels = @labels, size = @size, inodes = @inodes, created_at = @created_at,
           updated_at = @updated_at
         WHERE namespace = @namespace AND snapshotter = @snapshotter AND key = @key`,
      ),
      delete: db.prepare(`DELETE FROM snapshots WHERE ${where} AND key = ?`),
      nextSeq: db.prepare<[string, string], { last_seq: number }>(
        `INSERT INTO snapshot_key_sequences (namespace, snapshotter, last_seq) VALUES (?, ?, 1)
         ON CONFLICT (namespace, snapshotter) DO UPDATE SET last_seq = last_seq + 1
         RETURNING last_seq`,
      ),
      nextId: db.prepare<[string], { last_id: number }>(
        `INSERT INTO snapshot_sequences (snapshotter, last_id) VALUES (?, 1)
         ON CONFLICT (snapshotter) DO UPDATE SET last_id = last_id + 1 RETURNING last_id`,
      ),
    };
  }

  get(ns: string, snapshotter: string, key: string): SnapshotRecord | undefined {
    const row = this.q.get.get(ns, snapshotter, key);
    return row && toRecord(row);
  }

  list(ns: string, snapshotter: string): SnapshotRecord[] {
    return this.q.list.all(ns, snapshotter).map(toRecord);
  }

  /** Keys of the snapshots whose parent is `key`. */
  children(ns: string, snapshotter: string, key: string): string[] {
    return this.q.children.all(ns, snapshotter, key).map((r) => r.key);
  }

  /** Every backend id some namespace's snapshot names (other directories may go). */
  backendIds(snapshotter: string): Set<number> {
    return new Set(this.q.ids.all(snapshotter).map((r) => r.backend_id));
  }

  /** The next unused backend id of the snapshotter (never handed out twice). */
  nextBackendId(snapshotter: string): number {
    return this.q.nextId.get(snapshotter)!.last_id;
  }

  /** The namespace's next sequence number in the snapshotter (containerd's NextSequence). */
  nextKeySequence(ns: string, snapshotter: string): number {
    return this.q.nextSeq.get(ns, snapshotter)!.last_seq;
  }

  /** false when the namespace already has a snapshot with that key. */
  insert(ns: string, snapshotter: string, s: SnapshotRecord): boolean {
    return this.q.insert.run(toParams(ns, snapshotter, s)).changes === 1;
  }

  update(ns: string, snapshotter: string, s: SnapshotRecord): boolean {
    return this.q.update.run(toParams(ns, snapshotter, s)).changes === 1;
  }

  delete(ns: string, snapshotter: string, key: string): boolean {
    return this.q.delete.run(ns, snapshotter, key).changes === 1;
  }
}
