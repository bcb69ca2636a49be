import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { Diff } from "@containerd-ts/gen/containerd/services/diff/v1/diff_pb.js";
import type { Mount } from "@containerd-ts/gen/containerd/types/mount_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import { contentServiceFor } from "../content/domain.js";
import { LEASE_HEADER } from "../content/grpc.js";
import { addPlugins, hostPlatform } from "../introspection/domain.js";
import type { MountSpec } from "../snapshots/storage.js";
import { DiffService, type Descriptor } from "./domain.js";

const mountsFromProto = (mounts: Mount[]): MountSpec[] =>
  mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options }));

const descriptorToProto = (d: Descriptor) => ({
  mediaType: d.mediaType,
  digest: d.digest,
  size: BigInt(d.size),
});

/** containerd.services.diff.v1.Diff: the walking differ over the content store. */
export function registerDiffService(router: ConnectRouter, ctx: DaemonContext): void {
  const diff = new DiffService(contentServiceFor(ctx), async () => {
    const { libc } = await import("@containerd-ts/sys");
    return libc();
  });
  addPlugins(ctx.plugins, [
    {
      type: "io.containerd.differ.v1",
      id: "walking",
      requires: ["io.containerd.metadata.v1"],
      platforms: [hostPlatform()],
    },
    { type: "io.containerd.grpc.v1", id: "diff", requires: ["io.containerd.differ.v1"] },
  ]);
  const ns = (call: { requestHeader: Headers }) => requireNamespace(call.requestHeader);
  router.service(Diff, {
    apply: async (req, call) => {
      const layer = {
        mediaType: req.diff?.mediaType ?? "",
        digest: req.diff?.digest ?? "",
        size: Number(req.diff?.size ?? 0n),
      };
      const applied = await diff.apply(ns(call), layer, mountsFromProto(req.mounts));
      return { applied: descriptorToProto(applied) };
    },
    diff: async (req, call) => {
      const d = await diff.diff(ns(call), mountsFromProto(req.left), mountsFromProto(req.right), {
        mediaType: req.mediaType,
        ref: req.ref,
        labels: req.labels,
        sourceDateEpoch: req.sourceDateEpoch && timestampMs(req.sourceDateEpoch) / 1000,
        lease: call.requestHeader.get(LEASE_HEADER) || undefined,
      });
      return { diff: descriptorToProto(d) };
    },
  });
}
