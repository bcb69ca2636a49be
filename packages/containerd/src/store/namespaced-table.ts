import type Database from "better-sqlite3";

/** How one kind of record maps onto a table keyed by (namespace, key column). */
export interface NamespacedTableSpec<R, Row> {
  table: string;
  /** The column that names a record inside its namespace. */
  key: string;
  /** Every column but namespace, in SELECT order. */
  columns: readonly string[];
  toRecord(row: Row): R;
  /** Named parameters for every column (without namespace). */
  toParams(record: R): Record<string, unknown>;
}

/**
 * get/list/insert/update/delete of whole records in a (namespace, key) table: the part
 * that is the same for every such table, so each table module only says how rows map.
 */
export class NamespacedTable<R, Row> {
  private readonly q;

  constructor(
    db: Database.Database,
    private readonly spec: NamespacedTableSpec<R, Row>,
  ) {
    const { table, key, columns } = spec;
    const cols = columns.join(", ");
    const values = columns.map((c) => `@${c}`).join(", ");
    const assignments = columns
      .filter((c) => c !== key)
      .map((c) => `${c} = @${c}`)
      .join(", ");
    this.q = {
      get: db.prepare<[string, string], Row>(
        `SELECT ${cols} FROM ${table} WHERE namespace = ? AND ${key} = ?`,
      ),
      list: db.prepare<[string], Row>(
        `SELECT ${cols} FROM ${table} WHERE namespace = ? ORDER BY ${key}`,
      ),
      insert: db.prepare(
        `INSERT OR IGNORE INTO ${table} (namespace, ${cols}) VALUES (@namespace, ${values})`,
      ),
      update: db.prepare(
        `UPDATE ${table} SET ${assignments} WHERE namespace = @namespace AND ${key} = @${key}`,
      ),
      delete: db.prepare(`DELETE FROM ${table} WHERE namespace = ? AND ${key} = ?`),
    };
  }

  get(ns: string, key: string): R | undefined {
    const row = this.q.get.get(ns, key);
    return row && this.spec.toRecord(row);
  }

  list(ns: string): R[] {
    return this.q.list.all(ns).map((r) => this.spec.toRecord(r));
  }

  /** false when a record with that key already exists in the namespace. */
  insert(ns: string, record: R): boolean {
    return this.q.insert.run({ namespace: ns, ...this.spec.toParams(record) }).changes === 1;
  }

  /** Replaces every column of an existing record; false when it does not exist. */
  update(ns: string, record: R): boolean {
    return this.q.update.run({ namespace: ns, ...this.spec.toParams(record) }).changes === 1;
  }

  delete(ns: string, key: string): boolean {
    return this.q.delete.run(ns, key).changes === 1;
  }
}
