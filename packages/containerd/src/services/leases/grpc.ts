import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import { Leases } from "@containerd-ts/gen/containerd/services/leases/v1/leases_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import type { LeaseRecord, LeaseResource } from "../../store/index.js";
import { contentServiceFor } from "../content/domain.js";

const leaseToProto = (l: LeaseRecord) => ({
  id: l.id,
  labels: l.labels,
  createdAt: timestampFromDate(l.createdAt),
});

function resource(r: { id: string; type: string } | undefined): LeaseResource {
  if (!r) throw errInvalidArgument("resource must be set");
  return { id: r.id, type: r.type };
}

/** containerd.services.leases.v1.Leases over ctx.leases. */
export function registerLeasesService(router: ConnectRouter, ctx: DaemonContext): void {
  const leases = ctx.leases;
  const ns = (call: { requestHeader: Headers }) => requireNamespace(call.requestHeader);
  router.service(Leases, {
    create: (req, call) => ({ lease: leaseToProto(leases.create(ns(call), req.id, req.labels)) }),
    delete: (req, call) => {
      leases.delete(ns(call), req.id);
      // containerd collects garbage after a deletion; sync waits for it (ctr content prune)
      const content = contentServiceFor(ctx);
      if (req.sync) content.collectGarbage();
      else content.scheduleCollection();
      return {};
    },
    list: (req, call) => ({ leases: leases.list(ns(call), req.filters).map(leaseToProto) }),
    addResource: (req, call) => {
      leases.addResource(ns(call), req.id, resource(req.resource));
      return {};
    },
    deleteResource: (req, call) => {
      leases.deleteResource(ns(call), req.id, resource(req.resource));
      return {};
    },
    listResources: (req, call) => ({ resources: leases.listResources(ns(call), req.id) }),
  });
}
