import type { ConnectRouter } from "@connectrpc/connect";
import { Namespaces } from "@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import { NAMESPACE_HEADER, type DaemonContext } from "../../context.js";
import { isIdentifier } from "../../identifiers.js";

/**
 * The caller's namespace, under which containerd publishes /namespaces/create and /update;
 * without a usable one (containerd would fail the call after the change) the namespace itself.
 */
function callerNamespace(headers: Headers, fallback: string): string {
  const ns = headers.get(NAMESPACE_HEADER);
  return ns && isIdentifier(ns) ? ns : fallback;
}

/** containerd.services.namespaces.v1.Namespaces over ctx.namespaces (not namespaced itself). */
export function registerNamespacesService(router: ConnectRouter, ctx: DaemonContext): void {
  const ns = ctx.namespaces;
  router.service(Namespaces, {
    get: (req) => ({ namespace: ns.get(req.name) }),
    list: () => ({ namespaces: ns.list() }),
    create: (req, call) => {
      if (!req.namespace) throw errInvalidArgument("namespace must be set");
      const { name, labels } = req.namespace;
      return {
        namespace: ns.create(name, labels, callerNamespace(call.requestHeader, name)),
      };
    },
    update: (req, call) => {
      if (!req.namespace) throw errInvalidArgument("namespace must be set");
      const paths = req.updateMask?.paths ?? [];
      const { name, labels } = req.namespace;
      return {
        namespace: ns.update(name, labels, paths, callerNamespace(call.requestHeader, name)),
      };
    },
    delete: (req) => {
      ns.delete(req.name);
      return {};
    },
  });
}
