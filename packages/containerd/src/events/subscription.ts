import { ContainerdError, ErrorKind } from "@containerd-ts/errdefs";
import type { StoredEvent } from "../store/index.js";

/** A subscriber this far behind is cut off rather than let the daemon's memory grow. */
export const MAX_PENDING_EVENTS = 65_536;

/**
 * One subscriber's queue: events are pushed synchronously by the exchange and pulled
 * by an async iterator. The iterator ends when the subscriber aborts or the exchange closes.
 */
export class Subscription implements AsyncIterable<StoredEvent> {
  private readonly queue: StoredEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: ContainerdError | undefined;

  constructor(
    readonly accepts: (e: StoredEvent) => boolean,
    private readonly onEnd: (s: Subscription) => void,
  ) {}

  push(e: StoredEvent): void {
    if (this.ended || !this.accepts(e)) return;
    if (this.queue.length >= MAX_PENDING_EVENTS) {
      this.failure = new ContainerdError(
        ErrorKind.ResourceExhausted,
        `subscriber fell ${MAX_PENDING_EVENTS} events behind; resubscribe from sequence ${e.seq - 1}`,
      );
      this.queue.length = 0;
      this.end();
      return;
    }
    this.queue.push(e);
    this.wake?.();
  }

  get pending(): number {
    return this.queue.length;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StoredEvent> {
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.ended) {
          if (this.failure) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.end();
    }
  }
}
