import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ContainerTable } from "./containers.js";
import { EventTable } from "./events.js";
import { LeaseTable } from "./leases.js";
import { MetaTable } from "./meta.js";
import { migrate } from "./migrations.js";
import { NamespaceTable } from "./namespaces.js";

export type * from "./types.js";
export type { EventRange } from "./events.js";
export { MIGRATIONS, migrate, schemaVersion, type Migration } from "./migrations.js";
export { applyLabelPaths, dropEmpty } from "./labels.js";
export { acquireRootLock, type RootLock } from "./root-lock.js";

export const META_DB = "meta.db";

export interface StoreOptions {
  /**
   * "full" (default): every commit is fsynced before it is acknowledged, like containerd's
   * bolt. "normal": WAL commits survive a killed daemon but not a power loss; about twice
   * as fast for writes (the fsync blocks the event loop).
   */
  synchronous?: "full" | "normal";
}

/**
 * The daemon's metadata in one SQLite file (<root>/meta.db). One connection, used
 * synchronously from the event loop, so concurrent requests never see SQLITE_BUSY;
 * busy_timeout only covers outside readers (tests, tools).
 */
export class MetadataStore {
  readonly namespaces: NamespaceTable;
  readonly containers: ContainerTable;
  readonly leases: LeaseTable;
  readonly events: EventTable;
  readonly meta: MetaTable;

  private constructor(readonly db: Database.Database) {
    this.namespaces = new NamespaceTable(db);
    this.containers = new ContainerTable(db);
    this.leases = new LeaseTable(db);
    this.events = new EventTable(db);
    this.meta = new MetaTable(db);
  }

  /** Opens (creating if needed) the database file and brings its schema up to date. */
  static open(file: string, opts: StoreOptions = {}): MetadataStore {
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${opts.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    migrate(db);
    return new MetadataStore(db);
  }

  static openRoot(root: string, opts: StoreOptions = {}): MetadataStore {
    mkdirSync(root, { recursive: true, mode: 0o711 });
    return MetadataStore.open(join(root, META_DB), opts);
  }

  /** Runs fn in one write transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
