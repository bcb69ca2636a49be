import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageService } from "../images/domain.js";
import { sha256Digest } from "./digest.js";
import { unreachable, type NamespaceHoldings } from "./gc.js";
import { contentFixture, putBlob } from "./test-support.js";

const NOW = new Date("2026-01-01T00:00:00Z");
const d = (n: number) => `sha256:${String(n).repeat(64)}`;
const blob = (digest: string, labels: Record<string, string> = {}) => ({
  digest,
  size: 1,
  labels,
  createdAt: NOW,
  updatedAt: NOW,
});
const holdings = (h: Partial<NamespaceHoldings>): NamespaceHoldings => ({
  name: "ns",
  leases: [],
  images: [],
  containers: [],
  content: [],
  ingests: [],
  ...h,
});
const image = (target: string, labels: Record<string, string> = {}) => ({
  name: `img-${target}`,
  labels,
  target: { mediaType: "m", digest: target, size: 1, annotations: {} },
  createdAt: NOW,
  updatedAt: NOW,
});

test("gc: image targets and their gc.ref.content labels keep content, the rest goes", () => {
  const h = holdings({
    images: [image(d(1))],
    content: [
      blob(d(1), {
        "containerd.io/gc.ref.content.config": d(2),
        "containerd.io/gc.ref.content.l.0": d(3),
      }),
      blob(d(2)),
      blob(d(3), { "containerd.io/gc.ref.contentx": d(4) }),
      blob(d(4)),
      blob(d(5), { "containerd.io/gc.root": "" }),
      blob(d(6)),
    ],
  });
  assert.deepEqual(unreachable(h, NOW).digests, [d(4), d(6)]);
});

test("gc: unexpired leases keep their content and ingests; gc.flat does not follow refs", () => {
  const future = new Date(NOW.getTime() + 60_000).toISOString();
  const past = new Date(NOW.getTime() - 60_000).toISOString();
  const h = holdings({
    leases: [
      { labels: { "containerd.io/gc.expire": future }, resources: [{ type: "content", id: d(1) }] },
      { labels: { "containerd.io/gc.expire": past }, resources: [{ type: "content", id: d(2) }] },
      { labels: { "containerd.io/gc.flat": "" }, resources: [{ type: "content", id: d(3) }] },
      { labels: {}, resources: [{ type: "ingests", id: "leased" }] },
    ],
    content: [
      blob(d(1)),
      blob(d(2)),
      blob(d(3), { "containerd.io/gc.ref.content": d(4) }),
      blob(d(4)),
      blob(d(5)),
    ],
    ingests: [
      { ref: "leased", backendRef: "ns/leased", expected: d(5) },
      {
        ref: "fresh",
        backendRef: "ns/fresh",
        expected: "",
        expiresAt: new Date(NOW.getTime() + 1),
      },
      {
        ref: "stale",
        backendRef: "ns/stale",
        expected: "",
        expiresAt: new Date(NOW.getTime() - 1),
      },
    ],
  });
  const found = unreachable(h, NOW);
  assert.deepEqual(found.digests, [d(2), d(4)]);
  assert.deepEqual(found.refs, ["stale"]);
});

test("gc: collectGarbage forgets unreachable blobs, removes their bytes and orphan ingests", async (t) => {
  const fx = contentFixture(t);
  const { content } = fx;
  const images = new ImageService(fx.store, fx.events, fx.namespaces, {
    collect: () => content.collectGarbage(),
    schedule: () => undefined,
  });
  await putBlob(content, "ns", "manifest", {
    labels: { "containerd.io/gc.ref.content.l.0": sha256Digest("layer") },
  });
  await putBlob(content, "ns", "layer");
  await putBlob(content, "ns", "loose");
  images.create("ns", {
    name: "img",
    labels: {},
    target: { mediaType: "m", digest: sha256Digest("manifest"), size: 8, annotations: {} },
  });
  const orphan = join(content.blobs.root, "ingest", "orphan");
  mkdirSync(orphan);
  writeFileSync(join(orphan, "ref"), "nobody/owns-this");
  writeFileSync(join(orphan, "data"), "");
  assert.deepEqual(content.collectGarbage(), { content: 1, ingests: 0 });
  assert.equal(content.blobs.size(sha256Digest("loose")), undefined);
  assert.equal(content.blobs.size(sha256Digest("layer")), 5);
  assert.equal(existsSync(orphan), false);
  assert.equal(content.list("ns").length, 2);

  images.delete("ns", "img"); // no sync: nothing collected yet
  assert.equal(content.list("ns").length, 2);
  images.create("ns", {
    name: "img",
    labels: {},
    target: { mediaType: "m", digest: sha256Digest("manifest"), size: 8, annotations: {} },
  });
  images.delete("ns", "img", true);
  assert.deepEqual(content.list("ns"), []);
  assert.equal(content.blobs.size(sha256Digest("layer")), undefined);
});
