import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { Images, type Image } from "@containerd-ts/gen/containerd/services/images/v1/images_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import { contentServiceFor } from "../content/domain.js";
import { addPlugins } from "../introspection/domain.js";
import { ImageService, type ImageInput, type ImageRecord } from "./domain.js";

/** An absent image is an empty one (containerd's field is not a pointer): validation speaks. */
function imageFromProto(i: Image | undefined): ImageInput {
  return {
    name: i?.name ?? "",
    labels: { ...i?.labels },
    target: {
      mediaType: i?.target?.mediaType ?? "",
      digest: i?.target?.digest ?? "",
      size: Number(i?.target?.size ?? 0n),
      annotations: { ...i?.target?.annotations },
    },
  };
}

const imageToProto = (i: ImageRecord) => ({
  name: i.name,
  labels: i.labels,
  target: {
    mediaType: i.target.mediaType,
    digest: i.target.digest,
    size: BigInt(i.target.size),
    annotations: i.target.annotations,
  },
  createdAt: timestampFromDate(i.createdAt),
  updatedAt: timestampFromDate(i.updatedAt),
});

/** containerd.services.images.v1.Images over an ImageService. */
export function registerImagesService(router: ConnectRouter, ctx: DaemonContext): void {
  const content = contentServiceFor(ctx);
  const images = new ImageService(ctx.store, ctx.events, ctx.namespaces, {
    collect: () => ctx.log.debug("garbage collected", content.collectGarbage()),
    schedule: () =>
      content.scheduleCollection((err) =>
        ctx.log.warn("garbage collection failed", { error: err }),
      ),
  });
  addPlugins(ctx.plugins, [
    { type: "io.containerd.grpc.v1", id: "images", requires: ["io.containerd.metadata.v1"] },
  ]);
  const ns = (call: { requestHeader: Headers }) => requireNamespace(call.requestHeader);
  router.service(Images, {
    get: (req, call) => ({ image: imageToProto(images.get(ns(call), req.name)) }),
    list: (req, call) => ({ images: images.list(ns(call), req.filters).map(imageToProto) }),
    create: (req, call) => ({
      image: imageToProto(images.create(ns(call), imageFromProto(req.image))),
    }),
    update: (req, call) => ({
      image: imageToProto(
        images.update(ns(call), imageFromProto(req.image), req.updateMask?.paths ?? []),
      ),
    }),
    delete: (req, call) => {
      images.delete(ns(call), req.name, req.sync);
      return {};
    },
  });
}
