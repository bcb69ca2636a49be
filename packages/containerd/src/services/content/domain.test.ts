import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { ErrorKind } from "@containerd-ts/errdefs";
import { ContentDeleteSchema } from "@containerd-ts/gen/containerd/events/content_pb.js";
import { sha256Digest } from "./digest.js";
import { contentFixture, kind, putBlob } from "./test-support.js";

const HELLO = sha256Digest("hello");

test("content: a blob is visible only in the namespaces that committed or registered it", async (t) => {
  const { content } = contentFixture(t);
  await putBlob(content, "ns-a", "hello", { labels: { a: "1" } });
  const info = content.info("ns-a", HELLO);
  assert.equal(info.size, 5);
  assert.deepEqual(info.labels, { a: "1" });
  assert.throws(() => content.info("ns-b", HELLO), kind(ErrorKind.NotFound));
  assert.deepEqual(content.list("ns-b"), []);
  assert.throws(() => content.readRange("ns-b", HELLO, 0, 0), kind(ErrorKind.NotFound));

  // ns-b ingests the same blob: the store holds it, so nothing is written (shared policy)
  const w = await content.writer("ns-b", { ref: "b", expected: HELLO });
  assert.equal(w.status().offset, 5);
  assert.equal(w.digest(), HELLO);
  await w.commit(5, HELLO);
  assert.equal(content.info("ns-b", HELLO).size, 5);
  assert.deepEqual(content.info("ns-b", HELLO).labels, {});
  assert.deepEqual(content.listStatuses("ns-b"), []);

  // deleting from one namespace keeps the bytes for the other; after the last, GC takes them
  content.update("ns-b", { digest: HELLO, labels: { "containerd.io/gc.root": "now" } });
  content.delete("ns-a", HELLO);
  assert.throws(() => content.info("ns-a", HELLO), kind(ErrorKind.NotFound));
  content.collectGarbage();
  assert.ok(content.blobs.size(HELLO) === 5);
  content.delete("ns-b", HELLO);
  assert.equal(content.blobs.size(HELLO), 5);
  await new Promise((resolve) => setImmediate(resolve)); // the collection a delete schedules
  assert.equal(content.blobs.size(HELLO), undefined);
  assert.throws(() => content.delete("ns-b", HELLO), kind(ErrorKind.NotFound));
});

test("content: writer with an expected digest the namespace has is AlreadyExists", async (t) => {
  const { content } = contentFixture(t);
  await putBlob(content, "ns", "hello");
  await assert.rejects(
    content.writer("ns", { ref: "again", expected: HELLO }),
    kind(ErrorKind.AlreadyExists),
  );
  await assert.rejects(
    putBlob(content, "ns", "hello", { ref: "x" }),
    kind(ErrorKind.AlreadyExists),
  );
  await assert.rejects(content.writer("ns", { ref: "" }), kind(ErrorKind.InvalidArgument));
});

test("content: update with field masks labels and labels.<key>; other paths are refused", async (t) => {
  const { content } = contentFixture(t);
  await putBlob(content, "ns", "hello", { labels: { a: "1", b: "2" } });
  const one = content.update("ns", { digest: HELLO, labels: { b: "", c: "3" } }, [
    "labels.b",
    "labels.c",
  ]);
  assert.deepEqual(one.labels, { a: "1", c: "3" });
  assert.ok(one.updatedAt.getTime() >= one.createdAt.getTime());
  assert.deepEqual(content.update("ns", { digest: HELLO, labels: { z: "9" } }, ["labels"]).labels, {
    z: "9",
  });
  assert.deepEqual(content.update("ns", { digest: HELLO, labels: { y: "8" } }).labels, { y: "8" });
  assert.deepEqual(content.info("ns", HELLO).labels, { y: "8" });
  assert.throws(
    () => content.update("ns", { digest: HELLO, labels: {} }, ["size"]),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(
    () => content.update("other", { digest: HELLO, labels: {} }, ["labels"]),
    kind(ErrorKind.NotFound),
  );
});

test("content: list filters on digest and labels", async (t) => {
  const { content } = contentFixture(t);
  await putBlob(content, "ns", "hello", { labels: { kind: "greeting" } });
  await putBlob(content, "ns", "bye", { labels: { kind: "farewell", x: "1" } });
  const digests = (filters: string[]) => content.list("ns", filters).map((c) => c.digest);
  assert.deepEqual(digests([]).length, 2);
  assert.deepEqual(digests([`digest==${HELLO}`]), [HELLO]);
  assert.deepEqual(digests(["labels.kind==farewell"]), [sha256Digest("bye")]);
  assert.deepEqual(digests(["labels.x"]), [sha256Digest("bye")]);
  assert.deepEqual(digests(["labels.kind==greeting", "labels.x==1"]).length, 2);
  assert.throws(() => content.list("ns", ["labels.=="]), kind(ErrorKind.InvalidArgument));
});

test("content: read ranges clamp like containerd; past the end is out of range", async (t) => {
  const { content } = contentFixture(t);
  await putBlob(content, "ns", "hello");
  const text = async (offset: number, size: number) => {
    const r = content.readRange("ns", HELLO, offset, size);
    let s = "";
    for await (const c of r.chunks) s += Buffer.from(c).toString();
    return [r.offset, s];
  };
  assert.deepEqual(await text(0, 0), [0, "hello"]);
  assert.deepEqual(await text(1, 3), [1, "ell"]);
  assert.deepEqual(await text(-4, 2), [0, "he"]);
  assert.deepEqual(await text(3, 100), [3, "lo"]);
  assert.deepEqual(await text(5, 0), [5, ""]);
  assert.throws(
    () => content.readRange("ns", HELLO, 6, 0),
    (e) => e instanceof Error && e.name === "OutOfRangeError",
  );
});

test("content: statuses are per namespace, filter on ref; abort removes the ingest", async (t) => {
  const { content } = contentFixture(t);
  const w = await content.writer("ns", { ref: "job-1", total: 10 });
  await w.write(Buffer.from("abc"));
  await w.close();
  await (await content.writer("ns", { ref: "job-2" })).close();
  const st = content.status("ns", "job-1");
  assert.deepEqual([st.ref, st.offset, st.total], ["job-1", 3, 10]);
  assert.throws(() => content.status("other", "job-1"), kind(ErrorKind.NotFound));
  assert.deepEqual(content.listStatuses("other"), []);
  assert.deepEqual(
    content.listStatuses("ns").map((s) => s.ref),
    ["job-1", "job-2"],
  );
  assert.deepEqual(
    content.listStatuses("ns", ["ref==job-2"]).map((s) => s.ref),
    ["job-2"],
  );
  content.abort("ns", "job-1");
  assert.throws(() => content.status("ns", "job-1"), kind(ErrorKind.NotFound));
  assert.throws(() => content.abort("ns", "job-1"), kind(ErrorKind.NotFound));
  assert.equal(existsSync(content.blobs.ingestDir("ns/job-1")), false);
});

test("content: a lease gets the ingest while writing and the blob once committed", async (t) => {
  const { content, leases } = contentFixture(t);
  leases.create("ns", "l1");
  const w = await content.writer("ns", { ref: "leased", lease: "l1" });
  assert.deepEqual(leases.listResources("ns", "l1"), [{ id: "leased", type: "ingests" }]);
  await w.write(Buffer.from("hello"));
  await w.commit(5, HELLO);
  assert.deepEqual(leases.listResources("ns", "l1"), [{ id: HELLO, type: "content" }]);
  await assert.rejects(
    content.writer("ns", { ref: "x", lease: "no-such-lease" }),
    kind(ErrorKind.NotFound),
  );
  content.delete("ns", HELLO, "l1");
  assert.deepEqual(leases.listResources("ns", "l1"), []);
});

test("content: delete publishes /content/delete with the digest", async (t) => {
  const { content, events } = contentFixture(t);
  await putBlob(content, "ns", "hello");
  content.delete("ns", HELLO);
  const e = events.history().find((x) => x.topic === "/content/delete");
  assert.ok(e);
  assert.equal(e.namespace, "ns");
  assert.equal(e.event.typeUrl, "containerd.events.ContentDelete");
  assert.equal(fromBinary(ContentDeleteSchema, e.event.value).digest, HELLO);
});

test("content: a shared blob written to after all becomes a real ingest seeded with it", async (t) => {
  const { content } = contentFixture(t);
  await putBlob(content, "ns-a", "hello");
  const w = await content.writer("ns-b", { ref: "b", expected: HELLO });
  await w.truncate();
  await w.write(Buffer.from("hello"));
  await w.commit(5, HELLO);
  assert.equal(content.info("ns-b", HELLO).size, 5);
  assert.equal(content.blobs.size(HELLO), 5);
});

test("content: a namespace holding blobs cannot be deleted; its open ingests go with it", async (t) => {
  const { content, namespaces } = contentFixture(t);
  await putBlob(content, "busy", "hello");
  await (await content.writer("busy", { ref: "pending" })).close();
  assert.throws(() => namespaces.delete("busy"), kind(ErrorKind.FailedPrecondition));
  content.delete("busy", HELLO);
  namespaces.delete("busy");
  assert.deepEqual(content.listStatuses("busy"), []);
  content.collectGarbage();
  assert.equal(existsSync(content.blobs.ingestDir("busy/pending")), false);
});

test("content: putBlob writes a whole blob; again, or from another namespace, it is the same", async (t) => {
  const { content } = contentFixture(t);
  async function* chunks() {
    yield Buffer.from("hel");
    yield Buffer.from("lo");
  }
  const first = await content.putBlob("ns", "put-1", chunks(), { labels: { k: "v" } });
  assert.deepEqual([first.digest, first.size, first.labels], [HELLO, 5, { k: "v" }]);
  const again = await content.putBlob("ns", "put-2", Buffer.from("hello"), { expected: HELLO });
  assert.equal(again.digest, HELLO);
  const dup = await content.putBlob("ns", "put-3", Buffer.from("hello"));
  assert.equal(dup.digest, HELLO);
  const shared = await content.putBlob("other", "put-4", Buffer.from("ignored"), {
    expected: HELLO,
    size: 5,
  });
  assert.equal(shared.size, 5);
  await assert.rejects(
    content.putBlob("ns", "put-5", Buffer.from("x"), { expected: sha256Digest("y") }),
    kind(ErrorKind.FailedPrecondition),
  );
  assert.deepEqual(content.listStatuses("other"), []);
});
