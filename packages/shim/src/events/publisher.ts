import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageShape,
} from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ForwardRequestSchema,
  type ForwardRequest,
} from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import type { EventSpool } from "./spool.js";
import { topicOf } from "./topics.js";

/** Delivers one event to the daemon; throws when it could not. */
export interface Forwarder {
  forward(request: ForwardRequest): Promise<void>;
  close(): void;
}

export interface PublisherOptions {
  namespace: string;
  spool: EventSpool;
  forwarder: Forwarder | undefined;
  onError?: (err: unknown) => void;
  /** first retry delay; doubles up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Publishes task events to the daemon in order. Every event is spooled before the first
 * attempt and dropped only once the daemon acknowledged it; while the daemon is unreachable
 * the sender retries with backoff, forever.
 *
 * `publish` resolves once its event was delivered, or as soon as the daemon is known to be
 * unreachable — so a Wait answered after it is answered after the exit was forwarded, yet
 * never hangs on a dead daemon.
 */
export class EventPublisher {
  private sending = false;
  private outage = false;
  private closed = false;
  private appended = 0;
  private delivered = 0;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private drained: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private backoff: number;

  constructor(private readonly opts: PublisherOptions) {
    this.backoff = opts.minBackoffMs ?? 100;
    // events recovered from a previous run go first
    this.appended = opts.spool.size;
    if (this.appended > 0) this.kick();
  }

  get pending(): number {
    return this.opts.spool.size;
  }

  publish<D extends DescMessage>(schema: D, event: MessageShape<D>): Promise<void> {
    const topic = topicOf(schema.typeName);
    const request = create(ForwardRequestSchema, {
      envelope: {
        timestamp: timestampFromDate(new Date()),
        namespace: this.opts.namespace,
        topic,
        event: { typeUrl: schema.typeName, value: toBinary(schema, event) },
      },
    });
    this.opts.spool.append(toBinary(ForwardRequestSchema, request));
    const seq = ++this.appended;
    const done = new Promise<void>((resolve) => {
      if (this.outage || !this.opts.forwarder) resolve();
      else this.waiters.push({ seq, resolve });
    });
    this.kick();
    return done;
  }

  /** Resolves when every event was delivered, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.opts.spool.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.drained.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.opts.forwarder?.close();
    this.releaseWaiters(Infinity);
  }

  private kick(): void {
    if (this.sending || this.closed || this.timer || !this.opts.forwarder) return;
    void this.sendLoop();
  }

  private async sendLoop(): Promise<void> {
    const forwarder = this.opts.forwarder!;
    this.sending = true;
    try {
      for (;;) {
        if (this.closed) return;
        const head = this.opts.spool.head();
        if (!head) break;
        try {
          await forwarder.forward(fromBinary(ForwardRequestSchema, head));
        } catch (err) {
          this.opts.onError?.(err);
          this.outage = true;
          this.releaseWaiters(Infinity);
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.kick();
          }, this.backoff);
          this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
          return;
        }
        this.outage = false;
        this.backoff = this.opts.minBackoffMs ?? 100;
        this.opts.spool.ack();
        this.delivered++;
        this.releaseWaiters(this.delivered);
      }
      for (const d of this.drained.splice(0)) d();
    } finally {
      this.sending = false;
    }
  }

  private releaseWaiters(upTo: number): void {
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) (w.seq <= upTo ? w.resolve : () => keep.push(w))();
    this.waiters = keep;
  }
}
