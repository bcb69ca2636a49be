import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { errNotImplemented } from "@containerd-ts/errdefs";
import {
  Kind,
  Snapshots,
} from "@containerd-ts/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import { LEASE_HEADER } from "../content/grpc.js";
import { contentServiceFor } from "../content/domain.js";
import { addPlugins, hostPlatform, type PluginInfo } from "../introspection/domain.js";
import type { MountSpec, SnapshotInfo, SnapshotKind, SnapshotService } from "./domain.js";
import {
  collectSnapshots,
  collectSnapshotsSoon,
  snapshotterFor,
  snapshottersFor,
} from "./snapshotters.js";

/** containerd's List sends infos in blocks of this many. */
const LIST_BLOCK = 100;

const KINDS: Record<SnapshotKind, Kind> = {
  active: Kind.ACTIVE,
  view: Kind.VIEW,
  committed: Kind.COMMITTED,
};

const infoToProto = (s: SnapshotInfo) => ({
  name: s.name,
  parent: s.parent,
  kind: KINDS[s.kind],
  createdAt: timestampFromDate(s.createdAt),
  updatedAt: timestampFromDate(s.updatedAt),
  labels: s.labels,
});

const mountsToProto = (mounts: MountSpec[]) =>
  mounts.map((m) => ({
    type: m.type,
    source: m.source,
    target: m.target ?? "",
    options: m.options,
  }));

/** What Introspection lists for the snapshotters and this service. */
function snapshotPlugins(snapshotters: SnapshotService[]): PluginInfo[] {
  return [
    ...snapshotters.map((s) => ({
      type: "io.containerd.snapshotter.v1",
      id: s.name,
      platforms: [hostPlatform()],
      exports: { root: s.storage.root },
    })),
    {
      type: "io.containerd.grpc.v1",
      id: "snapshots",
      requires: ["io.containerd.snapshotter.v1"],
    },
  ];
}

const following = new WeakSet<DaemonContext>();

/** containerd.services.snapshots.v1.Snapshots over the daemon's snapshotters. */
export function registerSnapshotsService(router: ConnectRouter, ctx: DaemonContext): void {
  const all = snapshottersFor(ctx);
  addPlugins(ctx.plugins, snapshotPlugins([...all.values()]));
  const collect = () =>
    collectSnapshots(ctx).then(
      (n) => ctx.log.debug("snapshots garbage collected", { snapshots: n }),
      (err: unknown) => ctx.log.warn("snapshot garbage collection failed", { error: err }),
    );
  if (!following.has(ctx)) {
    following.add(ctx);
    // snapshots are collected with the content, which knows every deletion that frees them
    contentServiceFor(ctx).followers.push(() => void collect());
    void collect();
    // a container deleted without its snapshot (no snapshot cleanup) leaves it to the collector
    const deleted = ctx.events.subscribe({
      filters: ['topic=="/containers/delete"'],
      signal: ctx.shutdown,
    });
    void (async () => {
      for await (const _ of deleted) collectSnapshotsSoon(ctx);
    })().catch(() => undefined);
  }
  const ns = (call: { requestHeader: Headers }) => requireNamespace(call.requestHeader);
  const lease = (call: { requestHeader: Headers }) =>
    call.requestHeader.get(LEASE_HEADER) || undefined;
  const create = async (
    how: "prepare" | "view",
    req: { snapshotter: string; key: string; parent: string; labels: Record<string, string> },
    call: { requestHeader: Headers },
  ) => {
    const sn = snapshotterFor(ctx, req.snapshotter);
    return mountsToProto(await sn[how](ns(call), req.key, req.parent, req.labels, lease(call)));
  };
  router.service(Snapshots, {
    prepare: async (req, call) => ({ mounts: await create("prepare", req, call) }),
    view: async (req, call) => ({ mounts: await create("view", req, call) }),
    mounts: (req, call) => ({
      mounts: mountsToProto(snapshotterFor(ctx, req.snapshotter).mounts(ns(call), req.key)),
    }),
    commit: async (req, call) => {
      const sn = snapshotterFor(ctx, req.snapshotter);
      await sn.commit(ns(call), req.name, req.key, req.labels, lease(call));
      return {};
    },
    remove: (req, call) => {
      snapshotterFor(ctx, req.snapshotter).remove(ns(call), req.key, lease(call));
      return {};
    },
    stat: (req, call) => ({
      info: infoToProto(snapshotterFor(ctx, req.snapshotter).stat(ns(call), req.key)),
    }),
    update: (req, call) => {
      const sn = snapshotterFor(ctx, req.snapshotter);
      const input = { name: req.info?.name ?? "", labels: { ...req.info?.labels } };
      return { info: infoToProto(sn.update(ns(call), input, req.updateMask?.paths ?? [])) };
    },
    async *list(req, call) {
      const infos = snapshotterFor(ctx, req.snapshotter).list(ns(call), req.filters);
      for (let i = 0; i < infos.length; i += LIST_BLOCK) {
        yield { info: infos.slice(i, i + LIST_BLOCK).map(infoToProto) };
      }
    },
    usage: async (req, call) => {
      const u = await snapshotterFor(ctx, req.snapshotter).usage(ns(call), req.key);
      return { size: BigInt(u.size), inodes: BigInt(u.inodes) };
    },
    // containerd 1.6's service wrapper hides the snapshotter's Cleanup; collection does it here
    cleanup: (req) => {
      snapshotterFor(ctx, req.snapshotter);
      throw errNotImplemented("snapshotter does not implement Cleanup method: not implemented");
    },
  });
}
