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
  const res = await tasks.get({ containerId: id, execId }, client.call());
  if (!res.process) throw new Error(`task ${id} not found`);
  return { tasks, process: res.process, container };
}
