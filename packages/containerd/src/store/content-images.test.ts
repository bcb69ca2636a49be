import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContentTable } from "./content.js";
import { ImageTable, type ImageRecord } from "./images.js";
import { MetadataStore } from "./index.js";

function open(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "ctd-store-ci-"));
  const stores: MetadataStore[] = [];
  const reopen = () => {
    const s = MetadataStore.openRoot(dir);
    stores.push(s);
    return s;
  };
  t.after(() => {
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return reopen;
}

const D = `sha256:${"a".repeat(64)}`;
const at = new Date("2026-11-28T10:00:00.123Z");

test("content table: blobs per namespace survive a reopen; held() spans namespaces", (t) => {
  const reopen = open(t);
  let store = reopen();
  let content = new ContentTable(store.db);
  store.transaction(() => {
    store.namespaces.insert("a");
    store.namespaces.insert("b");
    const blob = { digest: D, size: 3, labels: { k: "v" }, createdAt: at, updatedAt: at };
    assert.equal(content.insert("a", blob), true);
    assert.equal(content.insert("a", blob), false);
    assert.equal(content.insert("b", { ...blob, labels: {} }), true);
  });
  store.close();
  store = reopen();
  content = new ContentTable(store.db);
  assert.deepEqual(content.get("a", D), {
    digest: D,
    size: 3,
    labels: { k: "v" },
    createdAt: at,
    updatedAt: at,
  });
  assert.deepEqual(content.held(), new Set([D]));
  assert.equal(content.update("b", { ...content.get("b", D)!, labels: { x: "y" } }), true);
  assert.deepEqual(content.get("b", D)?.labels, { x: "y" });
  assert.equal(content.delete("a", D), true);
  assert.equal(content.get("a", D), undefined);
  assert.deepEqual(content.held(), new Set([D]));
  content.delete("b", D);
  assert.deepEqual(content.held(), new Set());
});

test("content table: an ingest keeps its backend ref when put again; a blob needs its namespace", (t) => {
  const store = open(t)();
  const content = new ContentTable(store.db);
  store.namespaces.insert("ns");
  content.putIngest("ns", { ref: "r", backendRef: "ns/r", expected: "", expiresAt: at });
  content.putIngest("ns", { ref: "r", backendRef: "other", expected: D });
  assert.deepEqual(content.getIngest("ns", "r"), {
    ref: "r",
    backendRef: "ns/r",
    expected: D,
    expiresAt: undefined,
  });
  assert.deepEqual(
    content.listIngests("ns").map((i) => i.ref),
    ["r"],
  );
  assert.equal(content.deleteIngest("ns", "r"), true);
  assert.equal(content.deleteIngest("ns", "r"), false);
  const orphan = { digest: D, size: 1, labels: {}, createdAt: at, updatedAt: at };
  assert.throws(() => content.insert("no-such-namespace", orphan), /FOREIGN KEY/);
});

test("image table: round trip of target and annotations; update replaces, delete removes", (t) => {
  const store = open(t)();
  const images = new ImageTable(store.db);
  store.namespaces.insert("ns");
  const img: ImageRecord = {
    name: "docker.io/library/x:1",
    labels: { a: "b" },
    target: { mediaType: "m", digest: D, size: 42, annotations: { n: "v" } },
    createdAt: at,
    updatedAt: at,
  };
  assert.equal(images.insert("ns", img), true);
  assert.equal(images.insert("ns", img), false);
  assert.deepEqual(images.get("ns", img.name), img);
  const next = { ...img, labels: {}, target: { ...img.target, size: 43 } };
  assert.equal(images.update("ns", next), true);
  assert.deepEqual(images.list("ns"), [next]);
  assert.equal(images.update("ns", { ...next, name: "missing" }), false);
  assert.equal(images.delete("ns", img.name), true);
  assert.deepEqual(images.list("ns"), []);
});
