import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { ContainerCreateSchema } from "@containerd-ts/gen/containerd/events/container_pb.js";
import { eventAny, EventExchange } from "../../events/index.js";
import { MetadataStore, type StoredEvent } from "../../store/index.js";
import { historyBounds, replay } from "./replay.js";
import type { ReplayQuery } from "./range.js";

function setup(t: { after(fn: () => void): void }, retention = 10_000) {
  const dir = mkdtempSync(join(tmpdir(), "ctd-history-"));
  const store = MetadataStore.openRoot(dir);
  const ex = new EventExchange(store, retention);
  t.after(() => {
    ex.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return ex;
}

const at = (seconds: number, nanos = 0): Timestamp =>
  create(TimestampSchema, { seconds: BigInt(seconds), nanos });

/** Publishes `n` events c<first>..; event i has time 1000+i s, namespace ns<i%2>. */
async function fill(ex: EventExchange, n: number, first = 1): Promise<void> {
  for (let i = first; i < first + n; i++) {
    await ex.forward({
      namespace: `ns${i % 2}`,
      topic: "/containers/create",
      event: eventAny(ContainerCreateSchema, { id: `c${i}` }),
      timestamp: at(1000 + i),
    });
  }
}

async function collect(
  ex: EventExchange,
  q: ReplayQuery,
  signal = new AbortController().signal,
): Promise<number[]> {
  const seqs: number[] = [];
  for await (const e of replay(ex, q, signal)) seqs.push(e.seq);
  return seqs;
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function kindOfFailure(ex: EventExchange, q: ReplayQuery): Promise<ErrorKind | undefined> {
  try {
    await collect(ex, q);
    return undefined;
  } catch (err) {
    return kindOf(err);
  }
}

test("replays stored events between sequence numbers or times, both ends inclusive", async (t) => {
  const ex = setup(t);
  await fill(ex, 20);
  assert.deepEqual(await collect(ex, {}), range(1, 20));
  assert.deepEqual(await collect(ex, { since: { seq: 5 } }), range(5, 20));
  assert.deepEqual(await collect(ex, { since: { seq: 5 }, until: { seq: 8 } }), range(5, 8));
  assert.deepEqual(await collect(ex, { until: { seq: 3 } }), range(1, 3));
  assert.deepEqual(await collect(ex, { since: { seq: 0 }, until: { seq: 0 } }), []);
  assert.deepEqual(await collect(ex, { since: { seq: 21 } }), []);
  assert.deepEqual(await collect(ex, { since: { time: at(1010) } }), range(10, 20));
  assert.deepEqual(
    await collect(ex, { since: { time: at(1004, 1) }, until: { time: at(1007) } }),
    range(5, 7),
  );
  assert.deepEqual(await collect(ex, { since: { seq: 3 }, until: { time: at(1004) } }), [3, 4]);
});

test("a long history is replayed in order across pages", async (t) => {
  const ex = setup(t);
  await fill(ex, 2500);
  const seqs = await collect(ex, { since: { seq: 2 } });
  assert.deepEqual(seqs, range(2, 2500));
  assert.deepEqual(await collect(ex, { filters: ["event.id==c2345"] }), [2345]);
});

test("filters apply to replayed events as to live subscriptions", async (t) => {
  const ex = setup(t);
  await fill(ex, 10);
  assert.deepEqual(await collect(ex, { filters: ["namespace==ns1"] }), [1, 3, 5, 7, 9]);
  assert.deepEqual(
    await collect(ex, { filters: ["namespace==ns1", "event.id==c4"], since: { seq: 4 } }),
    [4, 5, 7, 9],
  );
  assert.deepEqual(await collect(ex, { filters: ['topic=="/tasks/exit"'] }), []);
});

test("without follow the replay stops at the newest event when it began", async (t) => {
  const ex = setup(t);
  await fill(ex, 5);
  const seqs: number[] = [];
  for await (const e of replay(ex, {}, new AbortController().signal)) {
    seqs.push(e.seq);
    if (e.seq === 1) await fill(ex, 3, 6);
  }
  assert.deepEqual(seqs, range(1, 5));
});

test("follow hands over from stored to live events without a gap or a repeat", async (t) => {
  const ex = setup(t);
  await fill(ex, 1500);
  const ctl = new AbortController();
  const seen: StoredEvent[] = [];
  let publishing = Promise.resolve();
  const reader = (async () => {
    for await (const e of replay(ex, { since: { seq: 10 }, follow: true }, ctl.signal)) {
      seen.push(e);
      // publish while the stored pages are read and while the handover happens
      if (e.seq % 100 === 0 && e.seq <= 1500) publishing = fill(ex, 7, 1501 + (e.seq / 100) * 7);
      await publishing;
      if (seen.length === 1500 - 9 + 15 * 7) ctl.abort();
    }
  })();
  await reader;
  assert.deepEqual(
    seen.map((e) => e.seq),
    range(10, 1500 + 15 * 7),
  );
  assert.equal(ex.subscriberCount, 0);
});

test("follow misses and repeats nothing while an independent publisher runs", async (t) => {
  const ex = setup(t);
  await fill(ex, 2100);
  const publisher = (async () => {
    for (let i = 0; i < 300; i++) {
      await fill(ex, 1, 2101 + i);
      await new Promise((r) => setImmediate(r));
    }
  })();
  const ctl = new AbortController();
  const seqs: number[] = [];
  for await (const e of replay(ex, { follow: true }, ctl.signal)) {
    seqs.push(e.seq);
    if (seqs.length % 50 === 0) await new Promise((r) => setImmediate(r));
    if (e.seq === 2400) ctl.abort();
  }
  await publisher;
  assert.deepEqual(seqs, range(1, 2400));
});

test("follow ends once the end sequence number is reached, matching or not", async (t) => {
  const ex = setup(t);
  await fill(ex, 4);
  const q = { since: { seq: 2 }, until: { seq: 7 }, follow: true, filters: ["namespace==ns0"] };
  const done = collect(ex, q);
  await fill(ex, 5, 5);
  assert.deepEqual(await done, [2, 4, 6]);
  assert.equal(ex.subscriberCount, 0);
  assert.deepEqual(await collect(ex, { until: { seq: 3 }, follow: true }), [1, 2, 3]);
});

test("follow with an end time already past is a plain replay", async (t) => {
  const ex = setup(t);
  await fill(ex, 6);
  assert.deepEqual(await collect(ex, { until: { time: at(1003) }, follow: true }), [1, 2, 3]);
});

test("follow with an end time to come ends when the client leaves", async (t) => {
  const ex = setup(t);
  await fill(ex, 2);
  const ctl = new AbortController();
  const q = { until: { time: at(9_000_000_000) }, follow: true };
  const seqs: number[] = [];
  for await (const e of replay(ex, q, ctl.signal)) {
    seqs.push(e.seq);
    if (e.seq === 2) await fill(ex, 1, 3);
    if (e.seq === 3) ctl.abort();
  }
  assert.deepEqual(seqs, [1, 2, 3]);
  assert.equal(ex.subscriberCount, 0);
});

test("follow ends by itself when the clock reaches the end time", async (t) => {
  const ex = setup(t);
  await fill(ex, 1);
  const soon = timestampFromMs(Date.now() + 200);
  assert.deepEqual(await collect(ex, { until: { time: soon }, follow: true }), [1]);
  assert.equal(ex.subscriberCount, 0);
});

test("bad queries are InvalidArgument before any event is sent", async (t) => {
  const ex = setup(t);
  await fill(ex, 3);
  const bad: ReplayQuery[] = [
    { filters: ["topic=="] },
    { filters: ["namespace==a,"] },
    { since: { seq: 5 }, until: { seq: 4 } },
    { since: { time: at(1005) }, until: { time: at(1004) } },
    { since: { time: at(1, 1_000_000_000) } },
    { until: { time: at(1, -1) } },
    { since: { time: at(300_000_000_000) } },
    { since: { seq: -1 } },
    { until: { seq: 1.5 } },
  ];
  for (const q of bad) {
    assert.equal(await kindOfFailure(ex, q), ErrorKind.InvalidArgument, JSON.stringify(q, big));
  }
});

const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

test("bounds name the oldest retained and the newest sequence numbers", async (t) => {
  const ex = setup(t, 50);
  assert.deepEqual(historyBounds(ex), { firstSeq: 0, lastSeq: 0, firstTimestamp: undefined });
  await fill(ex, 120);
  const b = historyBounds(ex);
  // retention prunes every 100 events down to the newest 50
  assert.equal(b.firstSeq, 51);
  assert.equal(b.lastSeq, 120);
  assert.equal(b.firstTimestamp?.seconds, 1051n);
  assert.deepEqual(await collect(ex, { since: { seq: 1 }, until: { seq: 53 } }), [51, 52, 53]);
});
