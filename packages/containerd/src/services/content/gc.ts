import type { ContentRecord, IngestRecord } from "../../store/content.js";
import type { ImageRecord } from "../../store/images.js";
import type { Labels, LeaseResource } from "../../store/index.js";
import { leaseExpiry } from "../leases/domain.js";

/** What one namespace holds, as the collector sees it. */
export interface NamespaceHoldings {
  name: string;
  leases: Array<{ labels: Labels; resources: LeaseResource[] }>;
  images: ImageRecord[];
  containers: Array<{ labels: Labels }>;
  content: ContentRecord[];
  ingests: IngestRecord[];
}

const GC_ROOT = "containerd.io/gc.root";
const GC_FLAT = "containerd.io/gc.flat";
const GC_CONTENT_REF = "containerd.io/gc.ref.content";

/** Digests named by `containerd.io/gc.ref.content[.|/...]` labels. */
function contentRefs(labels: Labels): string[] {
  return Object.entries(labels).flatMap(([k, v]) => {
    if (!k.startsWith(GC_CONTENT_REF)) return [];
    const rest = k.slice(GC_CONTENT_REF.length);
    return rest === "" || rest.startsWith(".") || rest.startsWith("/") ? [v] : [];
  });
}

/**
 * containerd's garbage collection of content, as a mark phase over one namespace: roots are
 * unexpired leases (their content and ingests), image targets and image/container gc.ref
 * labels, content labelled gc.root and ingests whose expiry has not passed; content refers
 * on through its gc.ref.content labels (not under a gc.flat lease), an ingest to the blob it
 * expects. Returns what is left unreachable.
 */
export function unreachable(
  ns: NamespaceHoldings,
  now: Date,
): { digests: string[]; refs: string[] } {
  const labelsOf = new Map(ns.content.map((c) => [c.digest, c.labels]));
  const expectedOf = new Map(ns.ingests.map((i) => [i.ref, i.expected]));
  const digests = new Set<string>();
  const followed = new Set<string>();
  const refs = new Set<string>();
  const markContent = (digest: string, follow: boolean) => {
    digests.add(digest);
    if (!follow || followed.has(digest)) return;
    followed.add(digest);
    for (const d of contentRefs(labelsOf.get(digest) ?? {})) markContent(d, true);
  };
  const markIngest = (ref: string) => {
    refs.add(ref);
    const expected = expectedOf.get(ref);
    if (expected) markContent(expected, true);
  };
  for (const lease of ns.leases) {
    const expiry = leaseExpiry(lease);
    if (expiry && expiry.getTime() < now.getTime()) continue;
    const follow = lease.labels[GC_FLAT] === undefined;
    for (const r of lease.resources) {
      if (r.type === "content") markContent(r.id, follow);
      else if (r.type === "ingests") markIngest(r.id);
    }
  }
  for (const image of ns.images) {
    markContent(image.target.digest, true);
    for (const d of contentRefs(image.labels)) markContent(d, true);
  }
  for (const c of ns.containers) for (const d of contentRefs(c.labels)) markContent(d, true);
  for (const i of ns.ingests) {
    if (i.expiresAt && i.expiresAt.getTime() > now.getTime()) markIngest(i.ref);
  }
  for (const c of ns.content) if (c.labels[GC_ROOT] !== undefined) markContent(c.digest, true);
  return {
    digests: ns.content.map((c) => c.digest).filter((d) => !digests.has(d)),
    refs: ns.ingests.map((i) => i.ref).filter((r) => !refs.has(r)),
  };
}
