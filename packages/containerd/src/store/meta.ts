import type Database from "better-sqlite3";

/** Small daemon-wide key/value facts (the server UUID). */
export class MetaTable {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      get: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      setIfAbsent: db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)"),
    };
  }

  get(key: string): string | undefined {
    return this.q.get.get(key)?.value;
  }

  /** Sets the key unless it exists; returns the stored value either way. */
  getOrSet(key: string, make: () => string): string {
    const existing = this.get(key);
    if (existing !== undefined) return existing;
    this.q.setIfAbsent.run(key, make());
    return this.get(key)!;
  }
}
