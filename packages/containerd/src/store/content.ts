import type Database from "better-sqlite3";
import { decodeLabels, encodeLabels } from "./codec.js";
import type { Labels } from "./types.js";

/** A blob as one namespace sees it: the bytes are shared, the metadata is per namespace. */
export interface ContentRecord {
  digest: string;
  size: number;
  labels: Labels;
  createdAt: Date;
  updatedAt: Date;
}

/** An ingest a namespace has open; `backendRef` names its directory in the blob store. */
export interface IngestRecord {
  ref: string;
  backendRef: string;
  /** Set when the namespace ingests a blob the store already has (no bytes are written). */
  expected: string;
  expiresAt?: Date;
}

interface BlobRow {
  digest: string;
  size: number;
  labels: string;
  created_at: number;
  updated_at: number;
}

interface IngestRow {
  ref: string;
  backend_ref: string;
  expected: string;
  expires_at: number | null;
}

const toContent = (r: BlobRow): ContentRecord => ({
  digest: r.digest,
  size: r.size,
  labels: decodeLabels(r.labels),
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const toIngest = (r: IngestRow): IngestRecord => ({
  ref: r.ref,
  backendRef: r.backend_ref,
  expected: r.expected,
  expiresAt: r.expires_at === null ? undefined : new Date(r.expires_at),
});

/** The content_blobs and content_ingests tables. Callers validate and wrap writes in a transaction. */
export class ContentTable {
  private readonly q;

  constructor(db: Database.Database) {
    const blob = "digest, size, labels, created_at, updated_at";
    const ingest = "ref, backend_ref, expected, expires_at";
    this.q = {
      get: db.prepare<[string, string], BlobRow>(
        `SELECT ${blob} FROM content_blobs WHERE namespace = ? AND digest = ?`,
      ),
      list: db.prepare<[string], BlobRow>(
        `SELECT ${blob} FROM content_blobs WHERE namespace = ? ORDER BY digest`,
      ),
      insert: db.prepare(
        "INSERT OR IGNORE INTO content_blobs (namespace, digest, size, labels, created_at, updated_at) " +
          "VALUES (?, ?, ?, ?, ?, ?)",
      ),
      update: db.prepare(
        "UPDATE content_blobs SET labels = ?, updated_at = ? WHERE namespace = ? AND digest = ?",
      ),
      delete: db.prepare("DELETE FROM content_blobs WHERE namespace = ? AND digest = ?"),
      held: db.prepare<[], { digest: string }>("SELECT DISTINCT digest FROM content_blobs"),
      getIngest: db.prepare<[string, string], IngestRow>(
        `SELECT ${ingest} FROM content_ingests WHERE namespace = ? AND ref = ?`,
      ),
      listIngests: db.prepare<[string], IngestRow>(
        `SELECT ${ingest} FROM content_ingests WHERE namespace = ? ORDER BY ref`,
      ),
      insertIngest: db.prepare(
        "INSERT INTO content_ingests (namespace, ref, backend_ref, expected, expires_at) " +
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, ref) DO UPDATE SET " +
          "expected = excluded.expected, expires_at = excluded.expires_at",
      ),
      deleteIngest: db.prepare("DELETE FROM content_ingests WHERE namespace = ? AND ref = ?"),
    };
  }

  get(ns: string, digest: string): ContentRecord | undefined {
    const row = this.q.get.get(ns, digest);
    return row && toContent(row);
  }

  list(ns: string): ContentRecord[] {
    return this.q.list.all(ns).map(toContent);
  }

  /** false when the namespace already has this blob. */
  insert(ns: string, c: ContentRecord): boolean {
    const params = [c.digest, c.size, encodeLabels(c.labels), c.createdAt.getTime()] as const;
    return this.q.insert.run(ns, ...params, c.updatedAt.getTime()).changes === 1;
  }

  /** Replaces labels and updated_at; false when the namespace has no such blob. */
  update(ns: string, c: Pick<ContentRecord, "digest" | "labels" | "updatedAt">): boolean {
    const labels = encodeLabels(c.labels);
    return this.q.update.run(labels, c.updatedAt.getTime(), ns, c.digest).changes === 1;
  }

  delete(ns: string, digest: string): boolean {
    return this.q.delete.run(ns, digest).changes === 1;
  }

  /** Every digest some namespace holds (bytes of any other blob may go). */
  held(): Set<string> {
    return new Set(this.q.held.all().map((r) => r.digest));
  }

  getIngest(ns: string, ref: string): IngestRecord | undefined {
    const row = this.q.getIngest.get(ns, ref);
    return row && toIngest(row);
  }

  listIngests(ns: string): IngestRecord[] {
    return this.q.listIngests.all(ns).map(toIngest);
  }

  /** Creates the ingest, or refreshes expected/expiry of an existing one (its backend ref stays). */
  putIngest(ns: string, i: IngestRecord): void {
    const expires = i.expiresAt === undefined ? null : i.expiresAt.getTime();
    this.q.insertIngest.run(ns, i.ref, i.backendRef, i.expected, expires);
  }

  deleteIngest(ns: string, ref: string): boolean {
    return this.q.deleteIngest.run(ns, ref).changes === 1;
  }
}
