import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import Database from "better-sqlite3";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { anyOf } from "./codec.js";
import {
  acquireRootLock,
  applyLabelPaths,
  MetadataStore,
  migrate,
  MIGRATIONS,
  schemaVersion,
  type ContainerRecord,
} from "./index.js";

function tempRoot(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "ctd-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function container(id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  const now = new Date();
  return {
    id,
    labels: { a: "b" },
    image: "",
    runtime: {
      name: "io.containerd.runc.v2",
      options: anyOf("containerd.runc.v1.Options", new Uint8Array([8, 1])),
    },
    spec: anyOf(
      "types.containerd.io/opencontainers/runtime-spec/1/Spec",
      Buffer.from('{"ociVersion":"1.0.2"}'),
    ),
    snapshotter: "",
    snapshotKey: "",
    sandbox: "",
    extensions: { ext: anyOf("x.y", new Uint8Array([1, 2, 3])) },
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

test("migrations: a fresh database reaches the newest version; re-running applies nothing", () => {
  const db = new Database(":memory:");
  assert.deepEqual(
    migrate(db),
    MIGRATIONS.map((m) => m.version),
  );
  assert.equal(schemaVersion(db), Math.max(...MIGRATIONS.map((m) => m.version)));
  assert.deepEqual(migrate(db), []);
  db.close();
});

test("migrations: an older database gets only the missing steps", () => {
  const db = new Database(":memory:");
  migrate(db, MIGRATIONS.slice(0, 1));
  assert.equal(schemaVersion(db), 1);
  assert.deepEqual(
    migrate(db),
    MIGRATIONS.slice(1).map((m) => m.version),
  );
  db.prepare("SELECT COUNT(*) FROM events").get();
  db.close();
});

test("migrations: a failing step leaves the previous version intact", () => {
  const db = new Database(":memory:");
  const broken = [
    ...MIGRATIONS,
    { version: 99, name: "broken", sql: "CREATE TABLE x (a); NOT SQL" },
  ];
  assert.throws(() => migrate(db, broken));
  assert.equal(schemaVersion(db), Math.max(...MIGRATIONS.map((m) => m.version)));
  assert.throws(() => db.prepare("SELECT * FROM x").all(), /no such table/);
  db.close();
});

test("migrations: a database newer than the daemon is refused", () => {
  const db = new Database(":memory:");
  migrate(db);
  db.prepare("INSERT INTO schema_migrations VALUES (1000, 'future', 'now')").run();
  assert.throws(() => migrate(db), /newer/);
  db.close();
});

test("containers round-trip with their Any bytes unchanged", (t) => {
  const store = MetadataStore.openRoot(tempRoot(t));
  t.after(() => store.close());
  const c = container("web");
  store.transaction(() => {
    store.namespaces.insert("default");
    assert.equal(store.containers.insert("default", c), true);
    assert.equal(store.containers.insert("default", c), false);
  });
  const got = store.containers.get("default", "web")!;
  assert.deepEqual(Buffer.from(got.spec!.value), Buffer.from(c.spec!.value));
  assert.equal(got.spec!.typeUrl, c.spec!.typeUrl);
  assert.deepEqual([...got.runtime.options!.value], [8, 1]);
  assert.deepEqual([...got.extensions["ext"]!.value], [1, 2, 3]);
  assert.equal(got.createdAt.getTime(), c.createdAt.getTime());
  assert.deepEqual(store.namespaces.contents("default"), {
    images: 0,
    blobs: 0,
    containers: 1,
    leases: 0,
  });
});

test("a transaction that throws writes nothing", (t) => {
  const store = MetadataStore.openRoot(tempRoot(t));
  t.after(() => store.close());
  assert.throws(() =>
    store.transaction(() => {
      store.namespaces.insert("ns1");
      store.containers.insert("ns1", container("c1"));
      throw new Error("abort");
    }),
  );
  assert.equal(store.namespaces.get("ns1"), undefined);
  assert.equal(store.containers.get("ns1", "c1"), undefined);
});

test("leases cascade their resources", (t) => {
  const store = MetadataStore.openRoot(tempRoot(t));
  t.after(() => store.close());
  store.transaction(() => {
    store.namespaces.insert("default");
    store.leases.insert("default", "l1", { x: "y" }, new Date());
    store.leases.addResource("default", "l1", { type: "content", id: "sha256:abc" });
    store.leases.addResource("default", "l1", { type: "content", id: "sha256:abc" });
  });
  assert.deepEqual(store.leases.resources("default", "l1"), [
    { type: "content", id: "sha256:abc" },
  ]);
  store.transaction(() => store.leases.delete("default", "l1"));
  assert.deepEqual(store.leases.resources("default", "l1"), []);
});

test("event sequence numbers stay monotonic across pruning and reopening", (t) => {
  const root = tempRoot(t);
  let store = MetadataStore.openRoot(root);
  const ev = (i: number) => ({
    timestamp: create(TimestampSchema, { seconds: BigInt(1000 + i), nanos: i }),
    namespace: "default",
    topic: "/test",
    event: anyOf("t", new Uint8Array([i])),
  });
  const seqs = [1, 2, 3, 4, 5].map((i) => store.events.append(ev(i)));
  assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
  assert.equal(store.events.prune(2), 3);
  assert.deepEqual(
    store.events.range().map((e) => e.seq),
    [4, 5],
  );
  store.close();
  store = MetadataStore.openRoot(root);
  t.after(() => store.close());
  assert.equal(store.events.lastSeq(), 5);
  store.events.prune(0);
  assert.equal(store.events.append(ev(6)), 6);
  assert.equal(store.events.count(), 1);
});

test("event ranges by sequence and time", (t) => {
  const store = MetadataStore.openRoot(tempRoot(t));
  t.after(() => store.close());
  for (let i = 0; i < 5; i++) {
    store.events.append({
      timestamp: create(TimestampSchema, { seconds: 100n + BigInt(i), nanos: 0 }),
      namespace: "n",
      topic: "/t",
      event: anyOf("t", new Uint8Array()),
    });
  }
  assert.deepEqual(
    store.events.range({ afterSeq: 3 }).map((e) => e.seq),
    [4, 5],
  );
  const since = create(TimestampSchema, { seconds: 102n, nanos: 0 });
  const until = create(TimestampSchema, { seconds: 104n, nanos: 0 });
  assert.deepEqual(
    store.events.range({ since, until }).map((e) => e.seq),
    [3, 4],
  );
  assert.deepEqual(
    store.events.range({ limit: 2 }).map((e) => e.seq),
    [1, 2],
  );
});

test("the server uuid is persisted", (t) => {
  const root = tempRoot(t);
  const a = MetadataStore.openRoot(root);
  const id = a.meta.getOrSet("uuid", () => "one");
  assert.equal(
    a.meta.getOrSet("uuid", () => "two"),
    id,
  );
  a.close();
  const b = MetadataStore.openRoot(root);
  assert.equal(b.meta.get("uuid"), "one");
  b.close();
});

test("root lock: a second holder is refused, a stale lock is replaced", (t) => {
  const root = tempRoot(t);
  const lock = acquireRootLock(root);
  assert.throws(
    () => acquireRootLock(root),
    (e) => kindOf(e) === ErrorKind.FailedPrecondition,
  );
  lock.release();
  // a lock left by a process that no longer exists
  writeFileSync(join(root, "containerd-ts.lock"), "999999999 x 1\n");
  const again = acquireRootLock(root);
  again.release();
});

test("label field-mask paths: whole map, one key, removal by empty or absent value", () => {
  const cur = { a: "1", b: "2" };
  assert.deepEqual(applyLabelPaths(cur, { a: "9" }, ["labels.a"]), { a: "9", b: "2" });
  assert.deepEqual(applyLabelPaths(cur, {}, ["labels.a"]), { b: "2" });
  assert.deepEqual(applyLabelPaths(cur, { b: "" }, ["labels.b"]), { a: "1" });
  assert.deepEqual(applyLabelPaths(cur, { c: "3", d: "" }, ["labels"]), { c: "3" });
  assert.deepEqual(applyLabelPaths(cur, { "x.y": "z" }, ["labels.x.y"]), {
    a: "1",
    b: "2",
    "x.y": "z",
  });
  assert.deepEqual(cur, { a: "1", b: "2" }, "input untouched");
});
