import { test } from "node:test";
import assert from "node:assert/strict";
import type { SnapshotRecord } from "../../store/snapshots.js";
import { snapshotRefs, unreachableSnapshots, type SnapshotHoldings } from "./gc.js";

const NOW = new Date("2026-01-01T00:00:00Z");
const snap = (key: string, parent = "", labels: Record<string, string> = {}): SnapshotRecord => ({
  key,
  backendId: 1,
  backendKey: "",
  kind: "committed",
  parent,
  labels,
  size: 0,
  inodes: 0,
  createdAt: NOW,
  updatedAt: NOW,
});
const holdings = (h: Partial<SnapshotHoldings>): SnapshotHoldings => ({
  snapshotter: "native",
  leases: [],
  images: [],
  containers: [],
  content: [],
  snapshots: [],
  ...h,
});
/** A chain l1 ← l2 ← l3 plus a stray snapshot. */
const chain = [snap("l1"), snap("l2", "l1"), snap("l3", "l2"), snap("stray")];

test("gc.ref.snapshot labels name keys of their snapshotter only", () => {
  const labels = {
    "containerd.io/gc.ref.snapshot.native": "a",
    "containerd.io/gc.ref.snapshot.native/1": "b",
    "containerd.io/gc.ref.snapshot.overlayfs": "c",
    "containerd.io/gc.ref.snapshot.nativeX": "d",
    "containerd.io/gc.ref.content": "e",
  };
  assert.deepEqual(snapshotRefs(labels, "native"), ["a", "b"]);
});

test("content labels keep a snapshot and its whole parent chain", () => {
  const content = [{ labels: { "containerd.io/gc.ref.snapshot.native": "l3" } }];
  assert.deepEqual(unreachableSnapshots(holdings({ content, snapshots: chain }), NOW), ["stray"]);
});

test("nothing holding them: children come before parents", () => {
  assert.deepEqual(unreachableSnapshots(holdings({ snapshots: chain }), NOW), [
    "l3",
    "l2",
    "l1",
    "stray",
  ]);
});

test("containers keep their snapshot key in their snapshotter, image labels keep theirs", () => {
  const h = holdings({
    snapshots: [...chain, snap("ctr", "l2"), snap("other-sn")],
    containers: [
      { labels: {}, snapshotter: "native", snapshotKey: "ctr" },
      { labels: {}, snapshotter: "overlayfs", snapshotKey: "other-sn" },
    ],
    images: [{ labels: { "containerd.io/gc.ref.snapshot.native": "stray" } }],
  });
  assert.deepEqual(unreachableSnapshots(h, NOW), ["l3", "other-sn"]);
});

test("leases keep their snapshots until they expire; gc.root keeps one alone", () => {
  const lease = (expire?: string) => ({
    labels: (expire ? { "containerd.io/gc.expire": expire } : {}) as Record<string, string>,
    resources: [{ type: "snapshots/native", id: "l2" }],
  });
  const snapshots = [...chain.slice(0, 3), snap("stray", "", { "containerd.io/gc.root": "x" })];
  assert.deepEqual(unreachableSnapshots(holdings({ snapshots, leases: [lease()] }), NOW), ["l3"]);
  assert.deepEqual(
    unreachableSnapshots(holdings({ snapshots, leases: [lease("2025-01-01T00:00:00Z")] }), NOW),
    ["l3", "l2", "l1"],
  );
});

test("a snapshot's own gc.ref.snapshot labels keep what they name", () => {
  const snapshots = [snap("a", "", { "containerd.io/gc.ref.snapshot.native": "b" }), snap("b")];
  const images = [{ labels: { "containerd.io/gc.ref.snapshot.native": "a" } }];
  assert.deepEqual(unreachableSnapshots(holdings({ snapshots, images }), NOW), []);
});
