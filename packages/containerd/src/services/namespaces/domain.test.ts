import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { EventExchange } from "../../events/index.js";
import { MetadataStore } from "../../store/index.js";
import { NamespaceService } from "./domain.js";

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ns-"));
  const store = MetadataStore.openRoot(dir);
  const events = new EventExchange(store, 100);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, events, ns: new NamespaceService(store, events) };
}

test("create, update by path, delete publish their events in order", (t) => {
  const { ns, events } = setup(t);
  ns.create("a", { x: "1" });
  ns.update("a", { y: "2" }, ["labels.y"]);
  ns.update("a", { z: "3" });
  assert.deepEqual(ns.get("a").labels, { z: "3" });
  ns.delete("a");
  assert.deepEqual(
    events.history().map((e) => [e.seq, e.topic, e.event.typeUrl]),
    [
      [1, "/namespaces/create", "containerd.events.NamespaceCreate"],
      [2, "/namespaces/update", "containerd.events.NamespaceUpdate"],
      [3, "/namespaces/update", "containerd.events.NamespaceUpdate"],
      [4, "/namespaces/delete", "containerd.events.NamespaceDelete"],
    ],
  );
});

test("bad input is InvalidArgument and writes nothing", (t) => {
  const { ns, store } = setup(t);
  const invalid = (e: unknown) => kindOf(e) === ErrorKind.InvalidArgument;
  assert.throws(() => ns.create("a b"), invalid);
  assert.throws(() => ns.create("ok", { k: "v".repeat(4096) }), invalid);
  assert.throws(() => ns.update("ok", {}, ["name"]), invalid);
  assert.deepEqual(ns.list(), []);
  assert.equal(store.events.count(), 0);
});

test("unknown namespaces: Get answers the bare name, Delete is NotFound, Update creates", (t) => {
  const { ns } = setup(t);
  assert.deepEqual(ns.get("ghost"), { name: "ghost", labels: {} });
  assert.throws(
    () => ns.delete("ghost"),
    (e) => kindOf(e) === ErrorKind.NotFound,
  );
  ns.update("made", { k: "v" }, ["labels.k"]);
  assert.deepEqual(ns.list(), [{ name: "made", labels: { k: "v" } }]);
});
