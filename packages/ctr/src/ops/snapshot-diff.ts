import { randomBytes } from "node:crypto";
import type { ContainerdClient } from "../client/client.js";
import type { ContentDescriptor } from "./content-write.js";

/** Key suffix that keeps two views of the same snapshot apart (as containerd's uniquePart). */
const uniquePart = () =>
  `${process.hrtime.bigint() % 1_000_000_000n}-${randomBytes(3).toString("base64url")}`;

/**
 * The changes of snapshot `key` over its parent as a layer in the content store, like
 * containerd's rootfs.CreateDiff: a view of the parent is the lower side, the snapshot itself
 * (its mounts if active, else a view) the upper; Diff/Diff writes the layer with reference
 * `ref` under the lease in `headers`; the views are removed afterwards.
 */
export async function createDiff(
  client: ContainerdClient,
  snapshotter: string,
  key: string,
  ref: string,
  headers?: Record<string, string>,
): Promise<ContentDescriptor> {
  const [{ Snapshots, Kind }, { Diff }] = await Promise.all([
    import("@containerd-ts/gen/containerd/services/snapshots/v1/snapshots_pb.js"),
    import("@containerd-ts/gen/containerd/services/diff/v1/diff_pb.js"),
  ]);
  const snapshots = client.service(Snapshots);
  const call = client.call(headers);
  const { info } = await snapshots.stat({ snapshotter, key }, call);
  const views: string[] = [];
  const view = async (parent: string, prefix: string) => {
    const viewKey = `${prefix}-${uniquePart()}`;
    const { mounts } = await snapshots.view({ snapshotter, key: viewKey, parent }, call);
    views.push(viewKey);
    return mounts;
  };
  try {
    const parent = info?.parent ?? "";
    const lower = await view(parent, `${parent}-parent-view`);
    const upper =
      info?.kind === Kind.ACTIVE
        ? (await snapshots.mounts({ snapshotter, key }, call)).mounts
        : await view(key, `${key}-view`);
    const { diff } = await client.service(Diff).diff({ left: lower, right: upper, ref }, call);
    if (!diff) throw new Error(`diff of snapshot ${key}: no descriptor`);
    return { mediaType: diff.mediaType, digest: diff.digest, size: diff.size };
  } finally {
    for (const viewKey of views.reverse()) {
      await snapshots.remove({ snapshotter, key: viewKey }, client.call());
    }
  }
}
