import type Database from "better-sqlite3";
import { decodeLabels, encodeLabels } from "./codec.js";
import type { Labels, LeaseRecord, LeaseResource } from "./types.js";

interface Row {
  id: string;
  labels: string;
  created_at: number;
}

const toRecord = (r: Row): LeaseRecord => ({
  id: r.id,
  labels: decodeLabels(r.labels),
  createdAt: new Date(r.created_at),
});

/** The leases and lease_resources tables. */
export class LeaseTable {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      get: db.prepare<[string, string], Row>(
        "SELECT id, labels, created_at FROM leases WHERE namespace = ? AND id = ?",
      ),
      list: db.prepare<[string], Row>(
        "SELECT id, labels, created_at FROM leases WHERE namespace = ? ORDER BY id",
      ),
      all: db.prepare<[], Row & { namespace: string }>(
        "SELECT namespace, id, labels, created_at FROM leases ORDER BY namespace, id",
      ),
      insert: db.prepare(
        "INSERT OR IGNORE INTO leases (namespace, id, labels, created_at) VALUES (?, ?, ?, ?)",
      ),
      delete: db.prepare("DELETE FROM leases WHERE namespace = ? AND id = ?"),
      addResource: db.prepare(
        "INSERT OR IGNORE INTO lease_resources (namespace, lease_id, type, id) VALUES (?, ?, ?, ?)",
      ),
      deleteResource: db.prepare(
        "DELETE FROM lease_resources WHERE namespace = ? AND lease_id = ? AND type = ? AND id = ?",
      ),
      resources: db.prepare<[string, string], LeaseResource>(
        "SELECT id, type FROM lease_resources WHERE namespace = ? AND lease_id = ? ORDER BY type, id",
      ),
    };
  }

  get(ns: string, id: string): LeaseRecord | undefined {
    const row = this.q.get.get(ns, id);
    return row && toRecord(row);
  }

  list(ns: string): LeaseRecord[] {
    return this.q.list.all(ns).map(toRecord);
  }

  /** Every lease of every namespace (for expiry sweeps). */
  listAll(): Array<LeaseRecord & { namespace: string }> {
    return this.q.all.all().map((r) => ({ ...toRecord(r), namespace: r.namespace }));
  }

  insert(ns: string, id: string, labels: Labels, createdAt: Date): boolean {
    return this.q.insert.run(ns, id, encodeLabels(labels), createdAt.getTime()).changes === 1;
  }

  /** Deletes the lease and, by cascade, its resource references. */
  delete(ns: string, id: string): boolean {
    return this.q.delete.run(ns, id).changes === 1;
  }

  addResource(ns: string, leaseId: string, r: LeaseResource): void {
    this.q.addResource.run(ns, leaseId, r.type, r.id);
  }

  deleteResource(ns: string, leaseId: string, r: LeaseResource): void {
    this.q.deleteResource.run(ns, leaseId, r.type, r.id);
  }

  resources(ns: string, leaseId: string): LeaseResource[] {
    return this.q.resources.all(ns, leaseId);
  }
}
