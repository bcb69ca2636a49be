import type { Container } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { rfc3339Nano, type TimestampLike } from "./time.js";

function anyJson(any: { typeUrl: string; value: Uint8Array } | undefined): unknown {
  if (!any) return null;
  const out: Record<string, string> = { type_url: any.typeUrl };
  if (any.value.length > 0) out.value = Buffer.from(any.value).toString("base64");
  return out;
}

function time(ts: TimestampLike | undefined): string {
  return ts ? rfc3339Nano(ts) : "0001-01-01T00:00:00Z";
}

/**
 * `containers info` output: the container record as ctr prints it (Go field names, the
 * spec decoded from its JSON bytes), so scripts written for `ctr c info` keep working.
 */
export function containerInfo(c: Container, spec: unknown): Record<string, unknown> {
  const extensions = Object.entries(c.extensions);
  return {
    ID: c.id,
    Labels: Object.keys(c.labels).length > 0 ? c.labels : null,
    Image: c.image,
    Runtime: { Name: c.runtime?.name ?? "", Options: anyJson(c.runtime?.options) },
    SnapshotKey: c.snapshotKey,
    Snapshotter: c.snapshotter,
    CreatedAt: time(c.createdAt),
    UpdatedAt: time(c.updatedAt),
    Extensions:
      extensions.length > 0
        ? Object.fromEntries(extensions.map(([k, v]) => [k, anyJson(v)]))
        : null,
    Spec: spec ?? null,
  };
}
