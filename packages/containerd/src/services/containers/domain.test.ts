import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { ContainerUpdateSchema } from "@containerd-ts/gen/containerd/events/container_pb.js";
import { EventExchange } from "../../events/index.js";
import { anyOf } from "../../store/codec.js";
import { MetadataStore } from "../../store/index.js";
import { NamespaceService } from "../namespaces/domain.js";
import { ContainerService, type ContainerInput } from "./domain.js";

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "ctd-containers-"));
  const store = MetadataStore.openRoot(dir);
  const events = new EventExchange(store, 100);
  const namespaces = new NamespaceService(store, events);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { events, namespaces, containers: new ContainerService(store, events, namespaces) };
}

const input = (id: string, extra: Partial<ContainerInput> = {}): ContainerInput => ({
  id,
  labels: {},
  image: "",
  runtime: { name: "io.containerd.runc.v2" },
  spec: anyOf("types.containerd.io/opencontainers/runtime-spec/1/Spec", Buffer.from("{}")),
  snapshotter: "",
  snapshotKey: "",
  extensions: {},
  sandbox: "",
  ...extra,
});

const kind = (k: ErrorKind) => (e: unknown) => kindOf(e) === k;

test("create validates like containerd and creates the namespace", (t) => {
  const { containers, namespaces } = setup(t);
  assert.throws(
    () => containers.create("ns", input("a", { runtime: { name: "" } })),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(
    () => containers.create("ns", input("a", { spec: undefined })),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(
    () => containers.create("ns", input("a", { snapshotKey: "k" })),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(
    () => containers.create("ns", input("a", { extensions: { "": anyOf("t", new Uint8Array()) } })),
    kind(ErrorKind.InvalidArgument),
  );
  assert.equal(namespaces.exists("ns"), false, "failed creates write nothing");
  const c = containers.create("ns", input("a", { labels: { keep: "1", drop: "" } }));
  assert.deepEqual(c.labels, { keep: "1" });
  assert.ok(namespaces.exists("ns"));
});

test("update paths: extensions.<key>, snapshotkey, image; updated_at moves, created_at stays", (t) => {
  const { containers, events } = setup(t);
  const made = containers.create(
    "ns",
    input("a", {
      snapshotter: "overlayfs",
      snapshotKey: "k1",
      extensions: { e1: anyOf("t1", new Uint8Array([1])) },
    }),
  );
  const next = containers.update(
    "ns",
    input("a", {
      image: "img",
      snapshotter: "overlayfs",
      snapshotKey: "k2",
      extensions: { e2: anyOf("t2", new Uint8Array([2])) },
      labels: { l: "v" },
    }),
    ["extensions.e2", "snapshot_key", "labels.l"],
  );
  assert.deepEqual(Object.keys(next.extensions).sort(), ["e1", "e2"]);
  assert.equal(next.snapshotKey, "k2");
  assert.equal(next.image, "", "image not in the mask");
  assert.equal(next.createdAt.getTime(), made.createdAt.getTime());
  assert.ok(next.updatedAt.getTime() >= made.updatedAt.getTime());
  const removed = containers.update("ns", input("a", { snapshotter: "overlayfs" }), [
    "extensions.e1",
  ]);
  assert.deepEqual(Object.keys(removed.extensions), ["e2"]);
  const update = events.history({ filters: ['topic=="/containers/update"'] })[0]!;
  const payload = fromBinary(ContainerUpdateSchema, update.event.value);
  assert.equal(payload.snapshotKey, "k2");
  assert.deepEqual(payload.labels, { l: "v" });
  assert.throws(() => containers.update("ns", input("nope"), ["image"]), kind(ErrorKind.NotFound));
});

test("delete publishes /containers/delete; deleting twice is NotFound", (t) => {
  const { containers, events } = setup(t);
  containers.create("ns", input("a"));
  containers.delete("ns", "a");
  assert.throws(() => containers.delete("ns", "a"), kind(ErrorKind.NotFound));
  assert.deepEqual(
    events.history().map((e) => e.topic),
    ["/containers/create", "/containers/delete"],
  );
});
