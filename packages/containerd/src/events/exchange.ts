import { create } from "@bufbuild/protobuf";
import {
  TimestampSchema,
  timestampFromDate,
  type Any,
  type Timestamp,
} from "@bufbuild/protobuf/wkt";
import { errInvalidArgument, validateIdentifier } from "@containerd-ts/errdefs";
import { nonEmpty, parseFilters, type Adaptor, type Filter } from "../filters/index.js";
import type { MetadataStore, StoredEvent } from "../store/index.js";
import { payloadAdaptor } from "./payload.js";
import { Subscription } from "./subscription.js";
import { validateTopic } from "./topics.js";

export interface EventInit {
  namespace: string;
  topic: string;
  event: Any;
  /** Defaults to now; forwarded events keep the sender's time. */
  timestamp?: Timestamp;
}

export interface HistoryQuery {
  /** Events after this sequence number. */
  afterSeq?: number;
  /** Events at or after this time. */
  since?: Timestamp | Date;
  /** Events before this time. */
  until?: Timestamp | Date;
  /** containerd filters on namespace, topic and event.<field>. */
  filters?: readonly string[];
  limit?: number;
}

export interface SubscribeOptions {
  filters?: readonly string[];
  /** Ends the subscription (the client went away). */
  signal?: AbortSignal;
  /** Replay stored events after this sequence number before live ones. */
  afterSeq?: number;
  /** Replay stored events from this time before live ones. */
  since?: Timestamp | Date;
}

/** The filter fields of an envelope: namespace, topic, event.<field of the payload>. */
export function envelopeAdaptor(e: Pick<StoredEvent, "namespace" | "topic" | "event">): Adaptor {
  let payload: Adaptor | undefined;
  return ([head, ...rest]) => {
    switch (head) {
      case "namespace":
        return nonEmpty(e.namespace);
      case "topic":
        return nonEmpty(e.topic);
      case "event":
        payload ??= payloadAdaptor(e.event);
        return payload(rest);
    }
    return undefined;
  };
}

const matches = (f: Filter) => (e: StoredEvent) => f.match(envelopeAdaptor(e));

/** Wall-clock now with sub-millisecond precision. */
export function nowTimestamp(): Timestamp {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  return create(TimestampSchema, {
    seconds: ns / 1_000_000_000n,
    nanos: Number(ns % 1_000_000_000n),
  });
}

const toTimestamp = (t: Timestamp | Date | undefined) =>
  t instanceof Date ? timestampFromDate(t) : t;

const PRUNE_EVERY = 100;
const HISTORY_PAGE = 1000;

/**
 * The event bus. Every event is appended to the SQLite history (getting its sequence
 * number) before any subscriber sees it; subscribers get events in sequence order.
 */
export class EventExchange {
  private readonly subscribers = new Set<Subscription>();

  constructor(
    private readonly store: MetadataStore,
    private readonly retention: number,
  ) {}

  /**
   * Validates and appends one event to the history. Call it inside the same
   * store.transaction as the change it reports, then deliver() after the commit.
   */
  record(init: EventInit): StoredEvent {
    validateIdentifier(init.namespace, "namespace");
    validateTopic(init.topic);
    const e = { ...init, timestamp: init.timestamp ?? nowTimestamp() };
    const seq = this.store.events.append(e);
    if (seq % PRUNE_EVERY === 0) this.store.events.prune(this.retention);
    return { seq, ...e };
  }

  /** Fans committed events out to the live subscribers. */
  deliver(...events: StoredEvent[]): void {
    for (const e of events) for (const s of this.subscribers) s.push(e);
  }

  async publish(namespace: string, topic: string, event: Any): Promise<StoredEvent> {
    const e = this.store.transaction(() => this.record({ namespace, topic, event }));
    this.deliver(e);
    return e;
  }

  /** Re-publishes an envelope made elsewhere (a shim); its timestamp must be set. */
  async forward(envelope: {
    timestamp?: Timestamp;
    namespace: string;
    topic: string;
    event?: Any;
  }): Promise<StoredEvent> {
    if (!envelope.timestamp) throw errInvalidArgument("timestamp must be set on forwarded event");
    if (!envelope.event) throw errInvalidArgument("event must be set on forwarded event");
    const init = { ...envelope, event: envelope.event, timestamp: envelope.timestamp };
    const e = this.store.transaction(() => this.record(init));
    this.deliver(e);
    return e;
  }

  /** Stored events matching the query, in sequence order. */
  history(q: HistoryQuery = {}): StoredEvent[] {
    const accept = matches(parseFilters(q.filters ?? []));
    const limit = q.limit ?? Infinity;
    const out: StoredEvent[] = [];
    let afterSeq = q.afterSeq ?? 0;
    for (;;) {
      const page = this.store.events.range({
        afterSeq,
        since: toTimestamp(q.since),
        until: toTimestamp(q.until),
        limit: HISTORY_PAGE,
      });
      for (const e of page) {
        if (accept(e)) out.push(e);
        if (out.length >= limit) return out;
      }
      if (page.length < HISTORY_PAGE) return out;
      afterSeq = page[page.length - 1]!.seq;
    }
  }

  /**
   * Live events matching the filters, optionally preceded by a replay of the history.
   * Replay and registration happen in one synchronous step, so nothing is missed or
   * repeated between them.
   */
  subscribe(opts: SubscribeOptions = {}): Subscription {
    const sub = new Subscription(matches(parseFilters(opts.filters ?? [])), (s) =>
      this.subscribers.delete(s),
    );
    if (opts.afterSeq !== undefined || opts.since !== undefined) {
      for (const e of this.history({ afterSeq: opts.afterSeq, since: opts.since })) sub.push(e);
    }
    this.subscribers.add(sub);
    if (opts.signal) {
      if (opts.signal.aborted) sub.end();
      else opts.signal.addEventListener("abort", () => sub.end(), { once: true });
    }
    return sub;
  }

  lastSeq(): number {
    return this.store.events.lastSeq();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Ends every subscription (daemon shutdown). */
  close(): void {
    for (const s of [...this.subscribers]) s.end();
  }
}
