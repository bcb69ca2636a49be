import {
  create,
  createRegistry,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { file_containerd_events_container } from "@containerd-ts/gen/containerd/events/container_pb.js";
import { file_containerd_events_content } from "@containerd-ts/gen/containerd/events/content_pb.js";
import { file_containerd_events_namespace } from "@containerd-ts/gen/containerd/events/namespace_pb.js";
import { file_containerd_events_snapshot } from "@containerd-ts/gen/containerd/events/snapshot_pb.js";
import { file_containerd_events_task } from "@containerd-ts/gen/containerd/events/task_pb.js";
import { file_containerd_services_images_v1_events } from "@containerd-ts/gen/containerd/services/images/v1/events_pb.js";
import { messageAdaptor, type Adaptor } from "../filters/index.js";

/** Every event type containerd publishes, for decoding payloads when filtering on event.*. */
export const eventRegistry = createRegistry(
  file_containerd_events_container,
  file_containerd_events_content,
  file_containerd_events_namespace,
  file_containerd_events_snapshot,
  file_containerd_events_task,
  file_containerd_services_images_v1_events,
);

/** Packs an event as containerd does: the type URL is the bare full name (no type.googleapis.com/). */
export function eventAny<Desc extends DescMessage>(
  schema: Desc,
  init: MessageInitShape<Desc>,
): Any {
  return create(AnySchema, {
    typeUrl: schema.typeName,
    value: toBinary(schema, create(schema, init)),
  });
}

/** Field lookup inside an event payload; unknown or undecodable payloads have no fields. */
export function payloadAdaptor(event: Any | undefined): Adaptor {
  if (!event) return () => undefined;
  const name = event.typeUrl.slice(event.typeUrl.lastIndexOf("/") + 1);
  const desc = eventRegistry.getMessage(name);
  if (!desc) return () => undefined;
  let decoded: object | undefined;
  return (path) => {
    try {
      decoded ??= fromBinary(desc, event.value);
    } catch {
      return undefined;
    }
    return messageAdaptor(desc, decoded)(path);
  };
}
