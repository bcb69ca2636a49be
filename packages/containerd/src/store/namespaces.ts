import type Database from "better-sqlite3";
import { decodeLabels, encodeLabels } from "./codec.js";
import type { Labels, NamespaceRecord } from "./types.js";

interface Row {
  name: string;
  labels: string;
}

const toRecord = (r: Row): NamespaceRecord => ({ name: r.name, labels: decodeLabels(r.labels) });

/** The namespaces table. Callers validate input and wrap writes in a transaction. */
export class NamespaceTable {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      get: db.prepare<[string], Row>("SELECT name, labels FROM namespaces WHERE name = ?"),
      list: db.prepare<[], Row>("SELECT name, labels FROM namespaces ORDER BY name"),
      insert: db.prepare(
        "INSERT OR IGNORE INTO namespaces (name, labels, created_at) VALUES (?, ?, ?)",
      ),
      setLabels: db.prepare("UPDATE namespaces SET labels = ? WHERE name = ?"),
      delete: db.prepare("DELETE FROM namespaces WHERE name = ?"),
      // unfinished writes go with their namespace (as in containerd); GC sweeps their data
      deleteIngests: db.prepare("DELETE FROM content_ingests WHERE namespace = ?"),
      images: db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM images WHERE namespace = ?",
      ),
      blobs: db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM content_blobs WHERE namespace = ?",
      ),
      containers: db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM containers WHERE namespace = ?",
      ),
      leases: db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM leases WHERE namespace = ?",
      ),
      snapshots: db.prepare<[string], { snapshotter: string; n: number }>(
        "SELECT snapshotter, COUNT(*) AS n FROM snapshots WHERE namespace = ? GROUP BY snapshotter ORDER BY snapshotter",
      ),
    };
  }

  get(name: string): NamespaceRecord | undefined {
    const row = this.q.get.get(name);
    return row && toRecord(row);
  }

  list(): NamespaceRecord[] {
    return this.q.list.all().map(toRecord);
  }

  /** Inserts the namespace; false when it already existed (nothing changed). */
  insert(name: string, labels: Labels = {}): boolean {
    return this.q.insert.run(name, encodeLabels(labels), Date.now()).changes === 1;
  }

  setLabels(name: string, labels: Labels): boolean {
    return this.q.setLabels.run(encodeLabels(labels), name).changes === 1;
  }

  delete(name: string): boolean {
    this.q.deleteIngests.run(name);
    return this.q.delete.run(name).changes === 1;
  }

  /** What still lives in the namespace, by kind (containerd refuses to delete a non-empty one). */
  contents(name: string): Record<string, number> {
    const count = (q: { get(name: string): { n: number } | undefined }) => q.get(name)!.n;
    const snapshots = this.q.snapshots
      .all(name)
      .map((r) => [`snapshots on "${r.snapshotter}" snapshotter`, r.n] as const);
    return {
      images: count(this.q.images),
      blobs: count(this.q.blobs),
      containers: count(this.q.containers),
      leases: count(this.q.leases),
      ...Object.fromEntries(snapshots),
    };
  }
}
