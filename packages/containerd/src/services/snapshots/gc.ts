import type { Labels, LeaseResource } from "../../store/index.js";
import type { SnapshotRecord } from "../../store/snapshots.js";
import { leaseExpiry } from "../leases/domain.js";
import { leaseResourceType } from "./domain.js";

/** What keeps one namespace's snapshots of one snapshotter alive, as the collector sees it. */
export interface SnapshotHoldings {
  snapshotter: string;
  leases: Array<{ labels: Labels; resources: LeaseResource[] }>;
  images: Array<{ labels: Labels }>;
  containers: Array<{ labels: Labels; snapshotter: string; snapshotKey: string }>;
  /** Content that survived content collection (so every one of it is reachable). */
  content: Array<{ labels: Labels }>;
  snapshots: SnapshotRecord[];
}

const GC_ROOT = "containerd.io/gc.root";
const GC_SNAPSHOT_REF = "containerd.io/gc.ref.snapshot.";

/**
 * Keys named by `containerd.io/gc.ref.snapshot.<snapshotter>[/...]` labels for this
 * snapshotter (containerd reads the snapshotter name up to the first `/`).
 */
export function snapshotRefs(labels: Labels, snapshotter: string): string[] {
  return Object.entries(labels).flatMap(([k, v]) => {
    if (!k.startsWith(GC_SNAPSHOT_REF)) return [];
    const rest = k.slice(GC_SNAPSHOT_REF.length);
    const slash = rest.indexOf("/");
    return (slash < 0 ? rest : rest.slice(0, slash)) === snapshotter ? [v] : [];
  });
}

/**
 * containerd's garbage collection of snapshots, as a mark phase: roots are unexpired leases'
 * snapshots, containers' snapshot keys, gc.ref.snapshot labels on images, containers and live
 * content, and snapshots labelled gc.root; a snapshot keeps its parent chain and what its own
 * gc.ref.snapshot labels name. Returns the keys left unreachable, children before parents.
 */
export function unreachableSnapshots(h: SnapshotHoldings, now: Date): string[] {
  const byKey = new Map(h.snapshots.map((s) => [s.key, s]));
  const marked = new Set<string>();
  const mark = (key: string) => {
    for (let s = byKey.get(key); s && !marked.has(s.key); s = byKey.get(s.parent)) {
      marked.add(s.key);
      for (const k of snapshotRefs(s.labels, h.snapshotter)) mark(k);
    }
  };
  const type = leaseResourceType(h.snapshotter);
  for (const lease of h.leases) {
    const expiry = leaseExpiry(lease);
    if (expiry && expiry.getTime() < now.getTime()) continue;
    for (const r of lease.resources) if (r.type === type) mark(r.id);
  }
  for (const c of h.containers) if (c.snapshotter === h.snapshotter) mark(c.snapshotKey);
  for (const holder of [...h.images, ...h.containers, ...h.content]) {
    for (const k of snapshotRefs(holder.labels, h.snapshotter)) mark(k);
  }
  for (const s of h.snapshots) if (s.labels[GC_ROOT] !== undefined) mark(s.key);
  const depth = (s: SnapshotRecord): number => {
    let n = 0;
    for (let p = byKey.get(s.parent); p && n <= byKey.size; p = byKey.get(p.parent)) n++;
    return n;
  };
  return h.snapshots
    .filter((s) => !marked.has(s.key))
    .sort((a, b) => depth(b) - depth(a))
    .map((s) => s.key);
}
