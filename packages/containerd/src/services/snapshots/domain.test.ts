import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorKind } from "@containerd-ts/errdefs";
import { LeaseService } from "../leases/domain.js";
import { kind, metadataFixture } from "../content/test-support.js";
import { SnapshotService } from "./domain.js";
import { NativeStorage } from "./native.js";

function fixture(t: { after(fn: () => void | Promise<void>): void }) {
  const fx = metadataFixture(t, "ctd-snapshots-");
  const storage = new NativeStorage(join(fx.dir, "native"));
  let removals = 0;
  const sn = new SnapshotService(fx.store, fx.events, fx.namespaces, "native", storage, () => {
    removals++;
  });
  const leases = new LeaseService(fx.store, fx.namespaces);
  return { ...fx, sn, storage, leases, removals: () => removals };
}

/** Prepares `key` on `parent`, writes files into it and commits it as `name`. */
async function layer(
  sn: SnapshotService,
  name: string,
  parent: string,
  files: Record<string, string>,
): Promise<void> {
  const [m] = await sn.prepare("ns", `extract-${name}`, parent);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(m!.source, f), text);
  await sn.commit("ns", name, `extract-${name}`);
}

test("prepare gives an rw bind mount of a new directory; commit keeps it under the new name", async (t) => {
  const { sn, storage } = fixture(t);
  const mounts = await sn.prepare("ns", "k1", "", { a: "1" });
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0]!.type, "bind");
  assert.deepEqual(mounts[0]!.options, ["rbind", "rw"]);
  assert.ok(mounts[0]!.source.startsWith(storage.snapshotsDir));
  assert.equal(sn.stat("ns", "k1").kind, "active");
  assert.deepEqual(sn.stat("ns", "k1").labels, { a: "1" });
  writeFileSync(join(mounts[0]!.source, "f"), "hello");
  await sn.commit("ns", "c1", "k1", { b: "2" });
  assert.throws(() => sn.stat("ns", "k1"), kind(ErrorKind.NotFound));
  const c1 = sn.stat("ns", "c1");
  assert.equal(c1.kind, "committed");
  assert.deepEqual(c1.labels, { b: "2" }, "commit labels replace the active's");
  const u = await sn.usage("ns", "c1");
  assert.ok(u.size > 0 && u.inodes === 2, JSON.stringify(u));
  assert.throws(() => sn.mounts("ns", "c1"), kind(ErrorKind.FailedPrecondition));
});

test("a child starts as a copy of its parent chain; views read the parent's directory", async (t) => {
  const { sn } = fixture(t);
  await layer(sn, "l1", "", { a: "1" });
  await layer(sn, "l2", "l1", { b: "2" });
  const [m] = await sn.prepare("ns", "rw", "l2");
  assert.deepEqual(readdirSync(m!.source).sort(), ["a", "b"]);
  const [v] = await sn.view("ns", "ro", "l2");
  assert.deepEqual(v!.options, ["rbind", "ro"]);
  assert.equal(readFileSync(join(v!.source, "b"), "utf8"), "2");
  assert.notEqual(v!.source, m!.source);
  assert.equal(sn.stat("ns", "ro").kind, "view");
  assert.equal(sn.stat("ns", "ro").parent, "l2");
  assert.deepEqual(sn.mounts("ns", "ro"), [v]);
  const [empty] = await sn.view("ns", "empty-view");
  assert.deepEqual(readdirSync(empty!.source), []);
});

test("containerd's codes: AlreadyExists, NotFound, InvalidArgument, FailedPrecondition", async (t) => {
  const { sn } = fixture(t);
  await layer(sn, "base", "", {});
  await sn.prepare("ns", "active", "base");
  await assert.rejects(sn.prepare("ns", "active"), kind(ErrorKind.AlreadyExists));
  await assert.rejects(sn.prepare("ns", "x", "missing"), kind(ErrorKind.NotFound));
  await assert.rejects(sn.prepare("ns", "x", "active"), kind(ErrorKind.InvalidArgument));
  await assert.rejects(sn.prepare("ns", ""), kind(ErrorKind.InvalidArgument));
  await assert.rejects(sn.prepare("ns", "x", "", { "": "v" }), kind(ErrorKind.InvalidArgument));
  await assert.rejects(sn.commit("ns", "base", "active"), kind(ErrorKind.AlreadyExists));
  await assert.rejects(sn.commit("ns", "new", "missing"), kind(ErrorKind.NotFound));
  await assert.rejects(sn.commit("ns", "new", "base"), kind(ErrorKind.FailedPrecondition));
  await sn.view("ns", "v", "base");
  await assert.rejects(sn.commit("ns", "new", "v"), kind(ErrorKind.FailedPrecondition));
  assert.throws(() => sn.remove("ns", "base"), kind(ErrorKind.FailedPrecondition));
  assert.throws(() => sn.remove("ns", "missing"), kind(ErrorKind.NotFound));
  assert.throws(() => sn.mounts("ns", "missing"), kind(ErrorKind.NotFound));
  await assert.rejects(sn.usage("ns", "missing"), kind(ErrorKind.NotFound));
  // nothing half-made stays behind after the failures
  assert.deepEqual(
    sn.list("ns").map((s) => s.name),
    ["active", "base", "v"],
  );
});

test("namespaces do not see each other's snapshots", async (t) => {
  const { sn } = fixture(t);
  await sn.prepare("ns", "k");
  await sn.prepare("other", "k");
  assert.throws(() => sn.stat("third", "k"), kind(ErrorKind.NotFound));
  assert.equal(sn.list("other").length, 1);
});

test("the snapshot.ref label refuses a target that exists", async (t) => {
  const { sn } = fixture(t);
  await layer(sn, "sha256:abc", "", {});
  await assert.rejects(
    sn.prepare("ns", "extract-2", "", { "containerd.io/snapshot.ref": "sha256:abc" }),
    kind(ErrorKind.AlreadyExists),
  );
});

test("remove forgets at once (children first); the directory goes with cleanup", async (t) => {
  const { sn, storage, removals } = fixture(t);
  await layer(sn, "p", "", { a: "1" });
  const [m] = await sn.prepare("ns", "c", "p");
  sn.remove("ns", "c");
  sn.remove("ns", "p");
  assert.equal(removals(), 2);
  assert.deepEqual(sn.list("ns"), []);
  assert.ok(existsSync(m!.source));
  assert.equal(await sn.cleanup(), 2);
  assert.ok(!existsSync(m!.source));
  assert.deepEqual(readdirSync(storage.snapshotsDir), []);
});

test("update: field masks on labels, other paths refused", async (t) => {
  const { sn } = fixture(t);
  await sn.prepare("ns", "k", "", { a: "1", b: "2" });
  assert.deepEqual(sn.update("ns", { name: "k", labels: { c: "3" } }).labels, { c: "3" });
  assert.deepEqual(
    sn.update("ns", { name: "k", labels: { d: "4", c: "" } }, ["labels.d", "labels.c"]).labels,
    { d: "4" },
  );
  assert.deepEqual(sn.update("ns", { name: "k", labels: { e: "5" } }, ["labels"]).labels, {
    e: "5",
  });
  assert.throws(
    () => sn.update("ns", { name: "k", labels: {} }, ["parent"]),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(() => sn.update("ns", { name: "", labels: {} }), kind(ErrorKind.InvalidArgument));
  assert.throws(() => sn.update("ns", { name: "x", labels: {} }), kind(ErrorKind.NotFound));
});

test("list filters on kind, name, parent and labels; a bad filter is Unknown", async (t) => {
  const { sn } = fixture(t);
  await layer(sn, "l1", "", {});
  await sn.prepare("ns", "a1", "l1", { role: "x" });
  await sn.view("ns", "v1", "l1");
  const names = (f: string) => sn.list("ns", [f]).map((s) => s.name);
  assert.deepEqual(names("kind==committed"), ["l1"]);
  assert.deepEqual(names("kind==view"), ["v1"]);
  assert.deepEqual(names("parent==l1"), ["a1", "v1"]);
  assert.deepEqual(names("labels.role==x"), ["a1"]);
  assert.deepEqual(names("name~=^a"), ["a1"]);
  assert.throws(() => sn.list("ns", ["kind=="]), kind(ErrorKind.Unknown));
});

test("leases: new snapshots join the lease, commit moves the key to the name, missing lease is NotFound", async (t) => {
  const { sn, leases, store } = fixture(t);
  leases.create("ns", "l");
  await sn.prepare("ns", "extract", "", {}, "l");
  const res = () => store.leases.resources("ns", "l").map((r) => `${r.type}:${r.id}`);
  assert.deepEqual(res(), ["snapshots/native:extract"]);
  await sn.commit("ns", "done", "extract", {}, "l");
  assert.deepEqual(res(), ["snapshots/native:done"]);
  sn.remove("ns", "done", "l");
  assert.deepEqual(res(), []);
  await assert.rejects(sn.prepare("ns", "x", "", {}, "nope"), kind(ErrorKind.NotFound));
  assert.throws(() => sn.stat("ns", "x"), kind(ErrorKind.NotFound));
});

test("events: /snapshot/prepare, /snapshot/commit, /snapshot/remove", async (t) => {
  const { sn, store } = fixture(t);
  await sn.prepare("ns", "k");
  await sn.commit("ns", "n", "k");
  sn.remove("ns", "n");
  const topics = store.events
    .range({})
    .filter((e) => e.topic.startsWith("/snapshot/"))
    .map((e) => e.topic);
  assert.deepEqual(topics, ["/snapshot/prepare", "/snapshot/commit", "/snapshot/remove"]);
});

test("snapshots survive a reopened store with their directories", async (t) => {
  const { sn, storage } = fixture(t);
  await layer(sn, "l1", "", { a: "1" });
  mkdirSync(join(storage.snapshotsDir, "rm-99"));
  assert.equal(await sn.cleanup(), 0, "held directories stay");
  assert.ok(!existsSync(join(storage.snapshotsDir, "rm-99")), "half-removed ones go");
  const [m] = await sn.prepare("ns", "k", "l1");
  assert.equal(readFileSync(join(m!.source, "a"), "utf8"), "1");
});

test("a namespace with snapshots is not deleted (containerd names the snapshotter)", async (t) => {
  const { sn, namespaces } = fixture(t);
  await sn.prepare("ns", "k");
  assert.throws(() => namespaces.delete("ns"), kind(ErrorKind.FailedPrecondition));
  sn.remove("ns", "k");
  namespaces.delete("ns");
});
