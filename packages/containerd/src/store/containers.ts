import type Database from "better-sqlite3";
import { decodeAnyMap, decodeLabels, encodeAnyMap, encodeLabels, optionalAny } from "./codec.js";
import type { ContainerRecord } from "./types.js";

interface Row {
  id: string;
  labels: string;
  image: string;
  runtime_name: string;
  runtime_options_type: string | null;
  runtime_options: Buffer | null;
  spec_type: string | null;
  spec: Buffer | null;
  snapshotter: string;
  snapshot_key: string;
  sandbox: string;
  extensions: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  "id, labels, image, runtime_name, runtime_options_type, runtime_options, spec_type, spec, " +
  "snapshotter, snapshot_key, sandbox, extensions, created_at, updated_at";

function toRecord(r: Row): ContainerRecord {
  return {
    id: r.id,
    labels: decodeLabels(r.labels),
    image: r.image,
    runtime: {
      name: r.runtime_name,
      options: optionalAny(r.runtime_options_type, r.runtime_options),
    },
    spec: optionalAny(r.spec_type, r.spec),
    snapshotter: r.snapshotter,
    snapshotKey: r.snapshot_key,
    sandbox: r.sandbox,
    extensions: decodeAnyMap(r.extensions),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

function toParams(ns: string, c: ContainerRecord) {
  return {
    namespace: ns,
    id: c.id,
    labels: encodeLabels(c.labels),
    image: c.image,
    runtime_name: c.runtime.name,
    runtime_options_type: c.runtime.options?.typeUrl ?? null,
    runtime_options: c.runtime.options ? Buffer.from(c.runtime.options.value) : null,
    spec_type: c.spec?.typeUrl ?? null,
    spec: c.spec ? Buffer.from(c.spec.value) : null,
    snapshotter: c.snapshotter,
    snapshot_key: c.snapshotKey,
    sandbox: c.sandbox,
    extensions: encodeAnyMap(c.extensions),
    created_at: c.createdAt.getTime(),
    updated_at: c.updatedAt.getTime(),
  };
}

/** The containers table, keyed by (namespace, id). */
export class ContainerTable {
  private readonly q;

  constructor(db: Database.Database) {
    const values = COLUMNS.split(", ")
      .map((c) => `@${c}`)
      .join(", ");
    const assignments = COLUMNS.split(", ")
      .filter((c) => c !== "id")
      .map((c) => `${c} = @${c}`)
      .join(", ");
    this.q = {
      get: db.prepare<[string, string], Row>(
        `SELECT ${COLUMNS} FROM containers WHERE namespace = ? AND id = ?`,
      ),
      list: db.prepare<[string], Row>(
        `SELECT ${COLUMNS} FROM containers WHERE namespace = ? ORDER BY id`,
      ),
      insert: db.prepare(
        `INSERT OR IGNORE INTO containers (namespace, ${COLUMNS}) VALUES (@namespace, ${values})`,
      ),
      update: db.prepare(
        `UPDATE containers SET ${assignments} WHERE namespace = @namespace AND id = @id`,
      ),
      delete: db.prepare("DELETE FROM containers WHERE namespace = ? AND id = ?"),
    };
  }

  get(ns: string, id: string): ContainerRecord | undefined {
    const row = this.q.get.get(ns, id);
    return row && toRecord(row);
  }

  list(ns: string): ContainerRecord[] {
    return this.q.list.all(ns).map(toRecord);
  }

  /** false when a container with that id already exists in the namespace. */
  insert(ns: string, c: ContainerRecord): boolean {
    return this.q.insert.run(toParams(ns, c)).changes === 1;
  }

  /** Replaces every column of an existing container; false when it does not exist. */
  update(ns: string, c: ContainerRecord): boolean {
    return this.q.update.run(toParams(ns, c)).changes === 1;
  }

  delete(ns: string, id: string): boolean {
    return this.q.delete.run(ns, id).changes === 1;
  }
}
