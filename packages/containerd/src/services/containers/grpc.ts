import type { ConnectRouter } from "@connectrpc/connect";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import { containerFromProto, containerToProto } from "./convert.js";

/** containerd.services.containers.v1.Containers over ctx.containers. */
export function registerContainersService(router: ConnectRouter, ctx: DaemonContext): void {
  const containers = ctx.containers;
  router.service(Containers, {
    get: (req, call) => ({
      container: containerToProto(containers.get(requireNamespace(call.requestHeader), req.id)),
    }),
    list: (req, call) => ({
      containers: containers
        .list(requireNamespace(call.requestHeader), req.filters)
        .map(containerToProto),
    }),
    async *listStream(req, call) {
      const list = containers.list(requireNamespace(call.requestHeader), req.filters);
      for (const c of list) yield { container: containerToProto(c) };
    },
    create: (req, call) => ({
      container: containerToProto(
        containers.create(requireNamespace(call.requestHeader), containerFromProto(req.container)),
      ),
    }),
    update: (req, call) => ({
      container: containerToProto(
        containers.update(
          requireNamespace(call.requestHeader),
          containerFromProto(req.container),
          req.updateMask?.paths ?? [],
        ),
      ),
    }),
    delete: (req, call) => {
      containers.delete(requireNamespace(call.requestHeader), req.id);
      return {};
    },
  });
}
