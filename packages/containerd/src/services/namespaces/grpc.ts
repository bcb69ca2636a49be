import type { ConnectRouter } from "@connectrpc/connect";
import { Namespaces } from "@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import type { DaemonContext } from "../../context.js";

/** containerd.services.namespaces.v1.Namespaces over ctx.namespaces (not namespaced itself). */
export function registerNamespacesService(router: ConnectRouter, ctx: DaemonContext): void {
  const ns = ctx.namespaces;
  router.service(Namespaces, {
    get: (req) => ({ namespace: ns.get(req.name) }),
    list: () => ({ namespaces: ns.list() }),
    create: (req) => {
      if (!req.namespace) throw errInvalidArgument("namespace must be set");
      return { namespace: ns.create(req.namespace.name, req.namespace.labels) };
    },
    update: (req) => {
      if (!req.namespace) throw errInvalidArgument("namespace must be set");
      const paths = req.updateMask?.paths ?? [];
      return { namespace: ns.update(req.namespace.name, req.namespace.labels, paths) };
    },
    delete: (req) => {
      ns.delete(req.name);
      return {};
    },
  });
}
