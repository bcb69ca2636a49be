import { ConnectError } from "@connectrpc/connect";
import type { ContainerdClient } from "../client/client.js";

/** The Tasks service client (imported only by the commands that use it). */
export async function tasksService(client: ContainerdClient) {
  const { Tasks } = await import("@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js");
  return client.service(Tasks);
}

/**
 * ctr resolves the container first (Containers/Get), then its task (Tasks/Get): the errors
 * then name what is missing, the container or its task.
 */
export async function getTask(client: ContainerdClient, id: string, execId = "") {
  const { Containers } = await import(
    "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"
  );
  const container = (await client.service(Containers).get({ id }, client.call())).container;
  const tasks = await tasksService(client);
  // ctr's client wraps a failed Tasks/Get: "no running task found: task c1 not found: not found"
  const res = await tasks.get({ containerId: id, execId }, client.call()).catch((err: unknown) => {
    if (!(err instanceof ConnectError)) throw err;
    throw new ConnectError(`no running task found: ${err.rawMessage}`, err.code, err.metadata);
  });
  if (!res.process) throw new Error(`task ${id} not found`);
  return { tasks, process: res.process, container };
}
