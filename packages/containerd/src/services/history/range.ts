import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import { envelopeAdaptor } from "../../events/index.js";
import { parseFilters } from "../../filters/index.js";
import type { StoredEvent } from "../../store/index.js";

/** A point in the history: a sequence number or a time. */
export type Point = { seq: number } | { time: Timestamp };

export interface ReplayQuery {
  /** containerd filters on namespace, topic and event.<field>. */
  filters?: readonly string[];
  /** First event (inclusive); undefined = the oldest retained. */
  since?: Point;
  /** Last event (inclusive); undefined = no end. */
  until?: Point;
  /** Go on with live events after the stored ones. */
  follow?: boolean;
}

/** The query checked and reduced to bounds on sequence numbers and times. */
export interface ReplayRange {
  /** Highest sequence number NOT wanted at the start: the replay begins after it. */
  startAfter: number;
  /** Highest sequence number wanted (Infinity = no end by sequence). */
  lastSeq: number;
  sinceTime?: Timestamp;
  untilTime?: Timestamp;
  /** Whether an event lies in the range and passes the filters. */
  accepts(e: StoredEvent): boolean;
}

// protobuf's Timestamp range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

function checkTimestamp(t: Timestamp, field: string): void {
  if (t.seconds < MIN_SECONDS || t.seconds > MAX_SECONDS) {
    throw errInvalidArgument(`${field}: timestamp seconds ${t.seconds} out of range`);
  }
  if (!Number.isInteger(t.nanos) || t.nanos < 0 || t.nanos > 999_999_999) {
    throw errInvalidArgument(`${field}: timestamp nanos ${t.nanos} out of range`);
  }
}

function checkSeq(seq: number, field: string): void {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw errInvalidArgument(`${field}: sequence number ${seq} out of range`);
  }
}

function checkPoint(p: Point | undefined, field: string): void {
  if (!p) return;
  if ("seq" in p) checkSeq(p.seq, field);
  else checkTimestamp(p.time, field);
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  return a.nanos - b.nanos;
}

/** The time one nanosecond later: turns an inclusive upper bound into an exclusive one. */
export function nextNanosecond(t: Timestamp): Timestamp {
  return t.nanos === 999_999_999
    ? create(TimestampSchema, { seconds: t.seconds + 1n, nanos: 0 })
    : create(TimestampSchema, { seconds: t.seconds, nanos: t.nanos + 1 });
}

/** Checks a query; bad filters, points or a start after the end are InvalidArgument. */
export function replayRange(q: ReplayQuery): ReplayRange {
  const filter = parseFilters(q.filters ?? []);
  checkPoint(q.since, "since");
  checkPoint(q.until, "until");
  const sinceSeq = q.since && "seq" in q.since ? q.since.seq : 0;
  const lastSeq = q.until && "seq" in q.until ? q.until.seq : Infinity;
  const sinceTime = q.since && "time" in q.since ? q.since.time : undefined;
  const untilTime = q.until && "time" in q.until ? q.until.time : undefined;
  if (sinceSeq > lastSeq) {
    throw errInvalidArgument(`since (sequence ${sinceSeq}) is after until (sequence ${lastSeq})`);
  }
  if (sinceTime && untilTime && compareTimestamps(sinceTime, untilTime) > 0) {
    throw errInvalidArgument("since is a later time than until");
  }
  const startAfter = Math.max(0, sinceSeq - 1);
  return {
    startAfter,
    lastSeq,
    sinceTime,
    untilTime,
    accepts: (e) =>
      e.seq > startAfter &&
      e.seq <= lastSeq &&
      (!sinceTime || compareTimestamps(e.timestamp, sinceTime) >= 0) &&
      (!untilTime || compareTimestamps(e.timestamp, untilTime) <= 0) &&
      filter.match(envelopeAdaptor(e)),
  };
}
