import type Database from "better-sqlite3";

/**
 * Numbered schema migrations. Append only: a released migration never changes, a
 * new schema change is a new number. Each runs in its own transaction with its row
 * in schema_migrations, so a crash leaves the schema at a whole version.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "namespaces, containers, leases, meta",
    sql: `
      CREATE TABLE namespaces (
        name        TEXT PRIMARY KEY,
        labels      TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE containers (
        namespace             TEXT NOT NULL REFERENCES namespaces(name),
        id                    TEXT NOT NULL,
        labels                TEXT NOT NULL DEFAULT '{}',
        image                 TEXT NOT NULL DEFAULT '',
        runtime_name          TEXT NOT NULL,
        runtime_options_type  TEXT,
        runtime_options       BLOB,
        spec_type             TEXT,
        spec                  BLOB,
        snapshotter           TEXT NOT NULL DEFAULT '',
        snapshot_key          TEXT NOT NULL DEFAULT '',
        sandbox               TEXT NOT NULL DEFAULT '',
        extensions            TEXT NOT NULL DEFAULT '{}',
        created_at            INTEGER NOT NULL,
        updated_at            INTEGER NOT NULL,
        PRIMARY KEY (namespace, id)
      );
      CREATE TABLE leases (
        namespace   TEXT NOT NULL REFERENCES namespaces(name),
        id          TEXT NOT NULL,
        labels      TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (namespace, id)
      );
      CREATE TABLE lease_resources (
        namespace  TEXT NOT NULL,
        lease_id   TEXT NOT NULL,
        type       TEXT NOT NULL,
        id         TEXT NOT NULL,
        PRIMARY KEY (namespace, lease_id, type, id),
        FOREIGN KEY (namespace, lease_id) REFERENCES leases(namespace, id) ON DELETE CASCADE
      );
      CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "event history",
    sql: `
      CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_seconds INTEGER NOT NULL,
        ts_nanos   INTEGER NOT NULL,
        namespace  TEXT NOT NULL,
        topic      TEXT NOT NULL,
        type_url   TEXT NOT NULL,
        value      BLOB NOT NULL
      );
      CREATE INDEX events_by_time ON events (ts_seconds, ts_nanos);
    `,
  },
  {
    version: 3,
    name: "content and images",
    sql: `
      CREATE TABLE content_blobs (
        namespace   TEXT NOT NULL REFERENCES namespaces(name),
        digest      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        labels      TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (namespace, digest)
      );
      CREATE INDEX content_blobs_by_digest ON content_blobs (digest);
      CREATE TABLE content_ingests (
        namespace   TEXT NOT NULL REFERENCES namespaces(name),
        ref         TEXT NOT NULL,
        backend_ref TEXT NOT NULL,
        expected    TEXT NOT NULL DEFAULT '',
        expires_at  INTEGER,
        PRIMARY KEY (namespace, ref)
      );
      CREATE TABLE images (
        namespace           TEXT NOT NULL REFERENCES namespaces(name),
        name                TEXT NOT NULL,
        labels              TEXT NOT NULL DEFAULT '{}',
        target_media_type   TEXT NOT NULL,
        target_digest       TEXT NOT NULL,
        target_size         INTEGER NOT NULL,
        target_annotations  TEXT NOT NULL DEFAULT '{}',
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        PRIMARY KEY (namespace, name)
      );
    `,
  },
  {
    version: 4,
    name: "snapshots",
    sql: `
      CREATE TABLE snapshots (
        namespace    TEXT NOT NULL REFERENCES namespaces(name),
        snapshotter  TEXT NOT NULL,
        key          TEXT NOT NULL,
        backend_id   INTEGER NOT NULL,
        kind         TEXT NOT NULL,
        parent       TEXT NOT NULL DEFAULT '',
        labels       TEXT NOT NULL DEFAULT '{}',
        size         INTEGER NOT NULL DEFAULT 0,
        inodes       INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (namespace, snapshotter, key)
      );
      CREATE INDEX snapshots_by_parent ON snapshots (namespace, snapshotter, parent);
      CREATE TABLE snapshot_sequences (
        snapshotter  TEXT PRIMARY KEY,
        last_id      INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: "snapshot backend keys",
    sql: `
      ALTER TABLE snapshots ADD COLUMN backend_key TEXT NOT NULL DEFAULT '';
      CREATE TABLE snapshot_key_sequences (
        namespace    TEXT NOT NULL,
        snapshotter  TEXT NOT NULL,
        last_seq     INTEGER NOT NULL,
        PRIMARY KEY (namespace, snapshotter)
      );
    `,
  },
];

const BOOKKEEPING = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
  )`;

export function schemaVersion(db: Database.Database): number {
  db.exec(BOOKKEEPING);
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
    v: number | null;
  };
  return row.v ?? 0;
}

/** Applies the migrations newer than the database's version; returns the versions applied. */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const current = schemaVersion(db);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (current > known) {
    throw new Error(`meta.db schema version ${current} is newer than this daemon knows (${known})`);
  }
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}
