import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { ErrorKind } from "@containerd-ts/errdefs";
import {
  ImageCreateSchema,
  ImageUpdateSchema,
} from "@containerd-ts/gen/containerd/services/images/v1/events_pb.js";
import { kind, metadataFixture } from "../content/test-support.js";
import { ImageService, type ImageInput } from "./domain.js";

function setup(t: { after(fn: () => void): void }) {
  const { store, events, namespaces } = metadataFixture(t, "ctd-images-");
  return { events, namespaces, images: new ImageService(store, events, namespaces) };
}

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

const image = (name: string, extra: Partial<ImageInput> = {}): ImageInput => ({
  name,
  labels: {},
  target: { mediaType: MANIFEST, digest: D1, size: 400, annotations: {} },
  ...extra,
});

test("images: create, get, list; duplicate AlreadyExists; missing NotFound", (t) => {
  const { images } = setup(t);
  const created = images.create(
    "ns",
    image("docker.io/library/a:1", { labels: { x: "1", e: "" } }),
  );
  assert.deepEqual(created.labels, { x: "1" });
  assert.deepEqual(images.get("ns", "docker.io/library/a:1").target, {
    mediaType: MANIFEST,
    digest: D1,
    size: 400,
    annotations: {},
  });
  assert.throws(
    () => images.create("ns", image("docker.io/library/a:1")),
    kind(ErrorKind.AlreadyExists),
  );
  assert.throws(() => images.get("ns", "nope"), kind(ErrorKind.NotFound));
  assert.throws(() => images.get("other", "docker.io/library/a:1"), kind(ErrorKind.NotFound));
  assert.deepEqual(images.list("other"), []);
  images.create("ns", image("b"));
  assert.deepEqual(
    images.list("ns").map((i) => i.name),
    ["b", "docker.io/library/a:1"],
  );
});

test("images: validation is InvalidArgument (name, target digest, size, media type, label size)", (t) => {
  const { images } = setup(t);
  const bad = (i: ImageInput) =>
    assert.throws(() => images.create("ns", i), kind(ErrorKind.InvalidArgument));
  bad(image(""));
  bad(image("x", { target: { mediaType: MANIFEST, digest: "", size: 1, annotations: {} } }));
  bad(
    image("x", { target: { mediaType: MANIFEST, digest: "sha256:zz", size: 1, annotations: {} } }),
  );
  bad(image("x", { target: { mediaType: MANIFEST, digest: D1, size: 0, annotations: {} } }));
  bad(image("x", { target: { mediaType: "", digest: D1, size: 1, annotations: {} } }));
  bad(image("x", { labels: { k: "v".repeat(5000) } }));
  // containerd 1.6 fails an empty label key only when writing it: Unknown
  assert.throws(
    () => images.create("ns", image("x", { labels: { "": "v" } })),
    kind(ErrorKind.Unknown),
  );
  assert.throws(() => images.update("ns", image("")), kind(ErrorKind.InvalidArgument));
  assert.throws(() => images.update("ns", image("missing")), kind(ErrorKind.NotFound));
});

test("images: update by field mask (labels, labels.<key>, target, annotations.<key>)", (t) => {
  const { images } = setup(t);
  const first = images.create("ns", image("img", { labels: { a: "1", b: "2" } }));
  const target2 = { mediaType: INDEX, digest: D2, size: 800, annotations: { k: "v" } };
  let u = images.update("ns", image("img", { labels: { b: "", c: "3" } }), [
    "labels.b",
    "labels.c",
  ]);
  assert.deepEqual(u.labels, { a: "1", c: "3" });
  assert.equal(u.target.digest, D1);
  u = images.update("ns", image("img", { target: target2 }), ["target"]);
  assert.deepEqual(u.target, target2);
  assert.deepEqual(u.labels, { a: "1", c: "3" });
  u = images.update(
    "ns",
    image("img", { target: { ...target2, annotations: { k: "", n: "m" } } }),
    ["annotations.k", "annotations.n"],
  );
  assert.deepEqual(u.target.annotations, { n: "m" });
  u = images.update("ns", image("img", { labels: { only: "this" } }), ["labels"]);
  assert.deepEqual(u.labels, { only: "this" });
  assert.equal(u.createdAt.getTime(), first.createdAt.getTime());
  assert.throws(() => images.update("ns", image("img"), ["name"]), kind(ErrorKind.InvalidArgument));
  // without a mask the image is replaced whole
  u = images.update("ns", image("img"));
  assert.deepEqual(u.labels, {});
  assert.equal(u.target.digest, D1);
  assert.deepEqual(images.get("ns", "img").labels, {});
});

test("images: list filters name, labels, target.mediatype, target.digest, annotations", (t) => {
  const { images } = setup(t);
  images.create("ns", image("docker.io/library/a:1", { labels: { team: "web" } }));
  images.create(
    "ns",
    image("docker.io/library/b:2", {
      target: { mediaType: INDEX, digest: D2, size: 10, annotations: { "org.x": "y" } },
    }),
  );
  const names = (f: string[]) => images.list("ns", f).map((i) => i.name);
  assert.deepEqual(names(["name==docker.io/library/a:1"]), ["docker.io/library/a:1"]);
  assert.deepEqual(names(["name~=b:"]), ["docker.io/library/b:2"]);
  assert.deepEqual(names(["labels.team==web"]), ["docker.io/library/a:1"]);
  assert.deepEqual(names([`target.mediatype==${INDEX}`]), ["docker.io/library/b:2"]);
  assert.deepEqual(names([`target.digest==${D1}`]), ["docker.io/library/a:1"]);
  assert.deepEqual(names(['annotations."org.x"==y']), ["docker.io/library/b:2"]);
  assert.deepEqual(names(["labels.team==web", `target.digest==${D2}`]).length, 2);
  assert.throws(() => images.list("ns", ["name=="]), kind(ErrorKind.InvalidArgument));
});

test("images: create, update and delete publish their events; delete of a missing one is NotFound", (t) => {
  const { images, events } = setup(t);
  images.create("ns", image("img", { labels: { a: "1" } }));
  images.update("ns", image("img", { labels: { a: "2" } }), ["labels"]);
  images.delete("ns", "img", true);
  assert.throws(() => images.delete("ns", "img"), kind(ErrorKind.NotFound));
  const got = events.history().filter((e) => e.topic.startsWith("/images/"));
  assert.deepEqual(
    got.map((e) => [e.namespace, e.topic, e.event.typeUrl]),
    [
      ["ns", "/images/create", "containerd.services.images.v1.ImageCreate"],
      ["ns", "/images/update", "containerd.services.images.v1.ImageUpdate"],
      ["ns", "/images/delete", "containerd.services.images.v1.ImageDelete"],
    ],
  );
  assert.deepEqual(fromBinary(ImageCreateSchema, got[0]!.event.value).labels, { a: "1" });
  assert.deepEqual(fromBinary(ImageUpdateSchema, got[1]!.event.value).labels, { a: "2" });
});

test("images: a namespace holding images cannot be deleted (FailedPrecondition)", (t) => {
  const { images, namespaces } = setup(t);
  images.create("busy", image("img"));
  assert.throws(() => namespaces.delete("busy"), kind(ErrorKind.FailedPrecondition));
  images.delete("busy", "img");
  namespaces.delete("busy");
  assert.equal(namespaces.exists("busy"), false);
});
