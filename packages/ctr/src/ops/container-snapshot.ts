import { Code, ConnectError } from "@connectrpc/connect";
import type { Container } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import type { ContainerdClient } from "../client/client.js";

/** The rootfs snapshot of a container made from an image (ctr's WithNewSnapshot). */
export interface ContainerSnapshot {
  snapshotter: string;
  /** the snapshot key: the container id, like ctr */
  key: string;
  /** the image's chain ID: its unpacked top layer */
  parent: string;
  /** the image name recorded in Container.image */
  image: string;
}

const isNotFound = (err: unknown) => err instanceof ConnectError && err.code === Code.NotFound;

async function snapshotsService(client: ContainerdClient) {
  const { Snapshots } = await import(
    "@containerd-ts/gen/containerd/services/snapshots/v1/snapshots_pb.js"
  );
  return client.service(Snapshots);
}

/**
 * Snapshots/Prepare of the container's active snapshot on the image's top layer, under the
 * caller's lease `headers`. An image not unpacked for the snapshotter has no such layer:
 * say so instead of the bare NotFound.
 */
export async function prepareContainerSnapshot(
  client: ContainerdClient,
  s: ContainerSnapshot,
  headers: Record<string, string>,
): Promise<void> {
  const snapshots = await snapshotsService(client);
  await snapshots
    .stat({ snapshotter: s.snapshotter, key: s.parent }, client.call(headers))
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      throw new Error(
        `image ${s.image} is not unpacked for snapshotter ${s.snapshotter} (no snapshot ${s.parent}): ` +
          `import it with \`ctr images import --snapshotter ${s.snapshotter}\` or unpack it first`,
      );
    });
  await snapshots.prepare(
    { snapshotter: s.snapshotter, key: s.key, parent: s.parent, labels: {} },
    client.call(headers),
  );
}

/** The mounts of the container's snapshot, the task's rootfs (ctr's NewTask); none without one. */
export async function containerRootfsMounts(client: ContainerdClient, c: Container) {
  if (!c.snapshotKey) return [];
  if (!c.snapshotter) throw new Error(`container ${c.id} has a snapshot key but no snapshotter`);
  const snapshots = await snapshotsService(client);
  const { mounts } = await snapshots.mounts(
    { snapshotter: c.snapshotter, key: c.snapshotKey },
    client.call(),
  );
  return mounts;
}

/** ctr's WithSnapshotCleanup: Snapshots/Remove of the container's key; gone already is fine. */
export async function removeContainerSnapshot(client: ContainerdClient, c: Container) {
  if (!c.snapshotKey) return;
  if (!c.snapshotter) throw new Error(`container ${c.id} has a snapshot key but no snapshotter`);
  const snapshots = await snapshotsService(client);
  await snapshots
    .remove({ snapshotter: c.snapshotter, key: c.snapshotKey }, client.call())
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
}
