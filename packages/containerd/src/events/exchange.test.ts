import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import {
  ContainerCreateSchema,
  ContainerDeleteSchema,
} from "@containerd-ts/gen/containerd/events/container_pb.js";
import { MetadataStore, type StoredEvent } from "../store/index.js";
import { eventAny, EventExchange, nowTimestamp } from "./index.js";
import { MAX_PENDING_EVENTS } from "./subscription.js";

function setup(t: { after(fn: () => void): void }, retention = 1000) {
  const dir = mkdtempSync(join(tmpdir(), "ctd-events-"));
  const store = MetadataStore.openRoot(dir);
  const ex = new EventExchange(store, retention);
  t.after(() => {
    ex.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, ex };
}

const create = (id: string) =>
  eventAny(ContainerCreateSchema, { id, runtime: { name: "io.containerd.runc.v2" } });

async function take(iter: AsyncIterable<StoredEvent>, n: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of iter) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

test("events carry bare type URLs and are stored before subscribers see them", async (t) => {
  const { store, ex } = setup(t);
  const sub = ex.subscribe();
  const got = take(sub, 1);
  await ex.publish("default", "/containers/create", create("c1"));
  const [e] = await got;
  assert.equal(e!.event.typeUrl, "containerd.events.ContainerCreate");
  assert.equal(e!.seq, 1);
  assert.equal(store.events.range()[0]!.topic, "/containers/create");
  assert.equal(ex.subscriberCount, 0, "breaking out of the loop ends the subscription");
});

test("subscribers filter on topic, namespace and event fields", async (t) => {
  const { ex } = setup(t);
  const byTopic = take(ex.subscribe({ filters: ['topic=="/containers/delete"'] }), 1);
  const byNs = take(ex.subscribe({ filters: ["namespace==other"] }), 1);
  const byField = take(ex.subscribe({ filters: ["event.id==c2", "event.runtime.name~=runsc"] }), 1);
  await ex.publish("default", "/containers/create", create("c1"));
  await ex.publish("default", "/containers/create", create("c2"));
  await ex.publish("other", "/containers/delete", eventAny(ContainerDeleteSchema, { id: "c3" }));
  assert.equal((await byTopic)[0]!.seq, 3);
  assert.equal((await byNs)[0]!.seq, 3);
  assert.equal((await byField)[0]!.seq, 2);
});

test("replay from a sequence number continues into live events without gaps", async (t) => {
  const { ex } = setup(t);
  for (const id of ["a", "b", "c"]) await ex.publish("default", "/containers/create", create(id));
  const sub = ex.subscribe({ afterSeq: 1 });
  await ex.publish("default", "/containers/create", create("d"));
  assert.deepEqual(
    (await take(sub, 3)).map((e) => e.seq),
    [2, 3, 4],
  );
  assert.deepEqual(
    ex.history({ filters: ["event.id==c"] }).map((e) => e.seq),
    [3],
  );
  assert.deepEqual(
    ex.history({ since: new Date(0), limit: 2 }).map((e) => e.seq),
    [1, 2],
  );
});

test("aborting the signal ends the iteration", async (t) => {
  const { ex } = setup(t);
  const ac = new AbortController();
  const sub = ex.subscribe({ signal: ac.signal });
  const done = take(sub, 10);
  ac.abort();
  assert.deepEqual(await done, []);
});

test("invalid topics, namespaces and forwards without timestamp are InvalidArgument", async (t) => {
  const { ex, store } = setup(t);
  const invalid = (e: unknown) => kindOf(e) === ErrorKind.InvalidArgument;
  await assert.rejects(ex.publish("default", "containers/create", create("x")), invalid);
  await assert.rejects(ex.publish("default", "/", create("x")), invalid);
  await assert.rejects(ex.publish("bad ns", "/a", create("x")), invalid);
  await assert.rejects(
    ex.forward({ namespace: "default", topic: "/a", event: create("x") }),
    invalid,
  );
  assert.equal(store.events.count(), 0);
  const e = await ex.forward({
    namespace: "default",
    topic: "/tasks/exit",
    event: create("x"),
    timestamp: nowTimestamp(),
  });
  assert.equal(e.seq, 1);
});

test("retention keeps the newest events", async (t) => {
  const { ex, store } = setup(t, 10);
  for (let i = 0; i < 250; i++) await ex.publish("default", "/containers/create", create(`c${i}`));
  assert.ok(store.events.count() <= 10 + 100);
  assert.equal(ex.lastSeq(), 250);
});

test("a subscriber that never reads is cut off with ResourceExhausted", async (t) => {
  const { ex } = setup(t);
  const sub = ex.subscribe();
  const ev = create("x");
  for (let i = 0; i <= MAX_PENDING_EVENTS; i++)
    ex.deliver({ seq: i + 1, namespace: "n", topic: "/t", event: ev, timestamp: nowTimestamp() });
  assert.equal(ex.subscriberCount, 0);
  await assert.rejects(take(sub, 1), (e) => kindOf(e) === ErrorKind.ResourceExhausted);
});
