import type { StoredEvent } from "../store/index.js";

/**
 * One subscriber's queue: events are pushed synchronously by the exchange and pulled
 * by an async iterator. The iterator ends when the subscriber aborts or the exchange closes.
 */
export class Subscription implements AsyncIterable<StoredEvent> {
  private readonly queue: StoredEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    readonly accepts: (e: StoredEvent) => boolean,
    private readonly onEnd: (s: Subscription) => void,
  ) {}

  push(e: StoredEvent): void {
    if (this.ended || !this.accepts(e)) return;
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
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.end();
    }
  }
}
