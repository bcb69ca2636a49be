import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { nowTimestamp, type EventExchange } from "../../events/index.js";
import type { StoredEvent } from "../../store/index.js";
import {
  compareTimestamps,
  nextNanosecond,
  replayRange,
  type ReplayQuery,
  type ReplayRange,
} from "./range.js";

/** Stored events read per step, so a long history is streamed rather than loaded. */
const PAGE = 1000;
/** setTimeout's longest delay; later ends are reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface HistoryBounds {
  /** Oldest retained event's sequence number (0 = empty history). */
  firstSeq: number;
  /** Newest sequence number handed out (0 = none yet). */
  lastSeq: number;
  firstTimestamp?: Timestamp;
}

export function historyBounds(events: EventExchange): HistoryBounds {
  const [first] = events.history({ limit: 1 });
  return { firstSeq: first?.seq ?? 0, lastSeq: events.lastSeq(), firstTimestamp: first?.timestamp };
}

/** Aborts `ctl` once the wall clock reaches `t`; returns the cancel function. */
function abortAt(t: Timestamp, ctl: AbortController): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const ms = timestampMs(t) - Date.now();
    if (ms < 0) ctl.abort();
    else timer = setTimeout(arm, Math.min(ms + 1, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Whether nothing more can come: the end sequence number is handed out or the end time is past. */
function endReached(events: EventExchange, r: ReplayRange): boolean {
  if (events.lastSeq() >= r.lastSeq) return true;
  return r.untilTime !== undefined && compareTimestamps(nowTimestamp(), r.untilTime) > 0;
}

/**
 * The events of a query in sequence order: the stored ones page by page, then (follow) the
 * live ones. The handover subscribes after the last stored event read, in the same
 * synchronous step as the exchange's own catch-up read, so no event falls between the two;
 * a sequence number at or below the last one sent is never sent again.
 * Throws InvalidArgument on a bad query before yielding anything.
 */
export async function* replay(
  events: EventExchange,
  q: ReplayQuery,
  signal: AbortSignal,
): AsyncGenerator<StoredEvent> {
  const r = replayRange(q);
  const follow = q.follow ?? false;
  // without follow, the replay ends at the newest event that existed when it began
  const end = follow ? r.lastSeq : Math.min(r.lastSeq, events.lastSeq());
  const storeUntil = r.untilTime && nextNanosecond(r.untilTime);
  let cursor = r.startAfter;
  let live = follow;
  for (;;) {
    if (cursor >= end || signal.aborted) return;
    const page = events.history({
      afterSeq: cursor,
      since: r.sinceTime,
      until: storeUntil,
      limit: PAGE,
    });
    for (const e of page) {
      if (e.seq > end) return;
      cursor = e.seq;
      if (r.accepts(e)) yield e;
    }
    if (page.length < PAGE) {
      if (!live) return;
      if (!endReached(events, r)) break;
      live = false; // the end was stored while reading: finish from the store
    }
  }

  const stop = new AbortController();
  const cancelTimer = r.untilTime ? abortAt(r.untilTime, stop) : undefined;
  // unfiltered, so that the end sequence number is noticed even when it does not match
  const sub = events.subscribe({
    afterSeq: cursor,
    since: r.sinceTime,
    signal: AbortSignal.any([signal, stop.signal]),
  });
  try {
    for await (const e of sub) {
      if (e.seq <= cursor) continue;
      cursor = e.seq;
      if (r.accepts(e)) yield e;
      if (cursor >= r.lastSeq) return;
    }
  } finally {
    cancelTimer?.();
    sub.end();
  }
}
