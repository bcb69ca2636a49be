import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import type Database from "better-sqlite3";
import { anyOf } from "./codec.js";
import type { StoredEvent } from "./types.js";

interface Row {
  seq: number;
  ts_seconds: number;
  ts_nanos: number;
  namespace: string;
  topic: string;
  type_url: string;
  value: Buffer;
}

export interface EventRange {
  /** Only events with a sequence number greater than this. */
  afterSeq?: number;
  /** Only events at or after this time. */
  since?: Timestamp;
  /** Only events before this time. */
  until?: Timestamp;
  limit?: number;
}

const toStored = (r: Row): StoredEvent => ({
  seq: r.seq,
  timestamp: create(TimestampSchema, { seconds: BigInt(r.ts_seconds), nanos: r.ts_nanos }),
  namespace: r.namespace,
  topic: r.topic,
  event: anyOf(r.type_url, r.value),
});

const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

/** The append-only event history; AUTOINCREMENT keeps sequence numbers monotonic across pruning. */
export class EventTable {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      append: db.prepare(
        "INSERT INTO events (ts_seconds, ts_nanos, namespace, topic, type_url, value) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      range: db.prepare<[number, number, number, number, number, number], Row>(
        `SELECT seq, ts_seconds, ts_nanos, namespace, topic, type_url, value FROM events
         WHERE seq > ? AND (ts_seconds, ts_nanos) >= (?, ?) AND (ts_seconds, ts_nanos) < (?, ?)
         ORDER BY seq LIMIT ?`,
      ),
      last: db.prepare<[], { seq: number | null }>("SELECT MAX(seq) AS seq FROM events"),
      // AUTOINCREMENT remembers the highest seq ever handed out, even after pruning.
      counter: db.prepare<[], { seq: number }>(
        "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
      ),
      prune: db.prepare("DELETE FROM events WHERE seq <= ?"),
      count: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM events"),
    };
  }

  /** Appends one event and returns its sequence number. */
  append(e: Omit<StoredEvent, "seq">): number {
    const r = this.q.append.run(
      Number(e.timestamp.seconds),
      e.timestamp.nanos,
      e.namespace,
      e.topic,
      e.event.typeUrl,
      Buffer.from(e.event.value),
    );
    return Number(r.lastInsertRowid);
  }

  range(r: EventRange = {}): StoredEvent[] {
    return this.q.range
      .all(
        r.afterSeq ?? 0,
        r.since ? Number(r.since.seconds) : -FAR_FUTURE,
        r.since?.nanos ?? 0,
        r.until ? Number(r.until.seconds) : FAR_FUTURE,
        r.until?.nanos ?? 0,
        r.limit ?? -1,
      )
      .map(toStored);
  }

  /** The highest sequence number handed out so far (0 if none). */
  lastSeq(): number {
    return this.q.counter.get()?.seq ?? this.q.last.get()?.seq ?? 0;
  }

  count(): number {
    return this.q.count.get()!.n;
  }

  /** Keeps only the newest `keep` events. */
  prune(keep: number): number {
    return this.q.prune.run(this.lastSeq() - keep).changes;
  }
}
