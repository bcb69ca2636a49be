import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  Container,
  ContainerSchema,
} from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import type { ContainerRecord } from "../../store/index.js";
import type { ContainerInput } from "./domain.js";

/** An absent container is an empty one (containerd's field is not a pointer): validation speaks. */
export function containerFromProto(c: Container | undefined): ContainerInput {
  return {
    id: c?.id ?? "",
    labels: { ...c?.labels },
    image: c?.image ?? "",
    runtime: { name: c?.runtime?.name ?? "", options: c?.runtime?.options },
    spec: c?.spec,
    snapshotter: c?.snapshotter ?? "",
    snapshotKey: c?.snapshotKey ?? "",
    extensions: { ...c?.extensions },
    sandbox: "",
  };
}

export function containerToProto(r: ContainerRecord): MessageInitShape<typeof ContainerSchema> {
  return {
    id: r.id,
    labels: r.labels,
    image: r.image,
    runtime: { name: r.runtime.name, options: r.runtime.options },
    spec: r.spec,
    snapshotter: r.snapshotter,
    snapshotKey: r.snapshotKey,
    createdAt: timestampFromDate(r.createdAt),
    updatedAt: timestampFromDate(r.updatedAt),
    extensions: r.extensions,
  };
}
