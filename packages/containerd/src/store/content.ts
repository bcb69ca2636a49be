import type Database from "better-sqlite3";
import { decodeLabels, encodeLabels } from "./codec.js";
import { NamespacedTable } from "./namespaced-table.js";
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

const blobParams = (c: ContentRecord) => ({
  digest: c.digest,
  size: c.size,
  labels: encodeLabels(c.labels),
  created_at: c.createdAt.getTime(),
  updated_at: c.updatedAt.getTime(),
});

const ingestParams = (i: IngestRecord) => ({
  ref: i.ref,
  backend_ref: i.backendRef,
  expected: i.expected,
  expires_at: i.expiresAt === undefined ? null : i.expiresAt.getTime(),
});

/** The content_blobs and content_ingests tables. Callers validate and wrap writes in a transaction. */
export class ContentTable {
  private readonly blobs;
  private readonly ingests;
  private readonly heldQuery;

  constructor(db: Database.Database) {
    this.blobs = new NamespacedTable<ContentRecord, BlobRow>(db, {
      table: "content_blobs",
      key: "digest",
      columns: ["digest", "size", "labels", "created_at", "updated_at"],
      toRecord: toContent,
      toParams: blobParams,
    });
    this.ingests = new NamespacedTable<IngestRecord, IngestRow>(db, {
      table: "content_ingests",
      key: "ref",
      columns: ["ref", "backend_ref", "expected", "expires_at"],
      toRecord: toIngest,
      toParams: ingestParams,
    });
    this.heldQuery = db.prepare<[], { digest: string }>(
      "SELECT DISTINCT digest FROM content_blobs",
    );
  }

  get(ns: string, digest: string): ContentRecord | undefined {
    return this.blobs.get(ns, digest);
  }

  list(ns: string): ContentRecord[] {
    return this.blobs.list(ns);
  }

  /** false when the namespace already has this blob. */
  insert(ns: string, c: ContentRecord): boolean {
    return this.blobs.insert(ns, c);
  }

  /** Replaces the blob's record (labels, times); false when the namespace has no such blob. */
  update(ns: string, c: ContentRecord): boolean {
    return this.blobs.update(ns, c);
  }

  delete(ns: string, digest: string): boolean {
    return this.blobs.delete(ns, digest);
  }

  /** Every digest some namespace holds (bytes of any other blob may go). */
  held(): Set<string> {
    return new Set(this.heldQuery.all().map((r) => r.digest));
  }

  getIngest(ns: string, ref: string): IngestRecord | undefined {
    return this.ingests.get(ns, ref);
  }

  listIngests(ns: string): IngestRecord[] {
    return this.ingests.list(ns);
  }

  /** Creates the ingest, or refreshes expected/expiry of an existing one (its backend ref stays). */
  putIngest(ns: string, i: IngestRecord): void {
    const current = this.ingests.get(ns, i.ref);
    if (current) this.ingests.update(ns, { ...i, backendRef: current.backendRef });
    else this.ingests.insert(ns, i);
  }

  deleteIngest(ns: string, ref: string): boolean {
    return this.ingests.delete(ns, ref);
  }
}
