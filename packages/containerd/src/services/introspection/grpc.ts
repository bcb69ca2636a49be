import type { ConnectRouter } from "@connectrpc/connect";
import { Introspection } from "@containerd-ts/gen/containerd/services/introspection/v1/introspection_pb.js";
import type { DaemonContext } from "../../context.js";
import { GrpcCode } from "@containerd-ts/errdefs";
import { IntrospectionService, type PluginInfo } from "./domain.js";

const pluginToProto = (p: PluginInfo) => ({
  type: p.type,
  id: p.id,
  requires: p.requires ?? [],
  platforms: (p.platforms ?? []).map((x) => ({
    os: x.os,
    architecture: x.architecture,
    variant: x.variant ?? "",
  })),
  exports: p.exports ?? {},
  capabilities: p.capabilities ?? [],
  initErr: p.initError ? { code: GrpcCode.Unknown, message: p.initError } : undefined,
});

/** containerd.services.introspection.v1.Introspection: ctx.plugins and the server UUID. */
export function registerIntrospectionService(router: ConnectRouter, ctx: DaemonContext): void {
  const svc = new IntrospectionService(ctx.store, () => ctx.plugins);
  router.service(Introspection, {
    plugins: (req) => ({ plugins: svc.listPlugins(req.filters).map(pluginToProto) }),
    server: () => {
      const s = svc.server();
      return { uuid: s.uuid, pid: BigInt(s.pid), pidns: BigInt(s.pidns), deprecations: [] };
    },
  });
}
