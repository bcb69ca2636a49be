import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import type { Container } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import type { ContainerdClient } from "../client/client.js";

/** Containers/ListStream like ctr, falling back to List when the daemon lacks the stream. */
export async function listContainers(
  client: ContainerdClient,
  filters: string[],
  options: CallOptions = client.call(),
): Promise<Container[]> {
  const { Containers } = await import(
    "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"
  );
  const svc = client.service(Containers);
  try {
    const out: Container[] = [];
    for await (const msg of svc.listStream({ filters }, options)) {
      if (msg.container) out.push(msg.container);
    }
    return out;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unimplemented) {
      return (await svc.list({ filters }, options)).containers;
    }
    throw err;
  }
}
