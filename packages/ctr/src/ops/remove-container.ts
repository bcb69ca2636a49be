import { Code, ConnectError } from "@connectrpc/connect";
import type { ContainerdClient } from "../client/client.js";
import { removeContainerSnapshot } from "./container-snapshot.js";

/** containerd.v1.types.Status values */
const STOPPED = 3;
const CREATED = 1;

/**
 * Deletes a container like ctr does: refuse when its task still runs, delete a stopped or
 * created task first, then its snapshot (ctr's WithSnapshotCleanup), then the container. A
 * daemon without a Tasks service holds no tasks.
 */
export async function removeContainer(client: ContainerdClient, id: string): Promise<void> {
  const [{ Containers }, { Tasks }] = await Promise.all([
    import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
    import("@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js"),
  ]);
  const containers = client.service(Containers);
  const tasks = client.service(Tasks);
  const { container } = await containers.get({ id }, client.call());
  const task = await tasks.get({ containerId: id }, client.call()).then(
    (r) => r.process,
    (err: unknown) => {
      if (
        err instanceof ConnectError &&
        (err.code === Code.NotFound || err.code === Code.Unimplemented)
      ) {
        return undefined;
      }
      throw err;
    },
  );
  if (task) {
    if (task.status !== STOPPED && task.status !== CREATED) {
      const { statusName } = await import("../format/status.js");
      throw new Error(
        `cannot delete a non stopped container: ${statusName(task.status).toLowerCase()}`,
      );
    }
    await tasks.delete({ containerId: id }, client.call());
  }
  if (container) await removeContainerSnapshot(client, container);
  await containers.delete({ id }, client.call());
}
