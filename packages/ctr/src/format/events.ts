import { createRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import type { Envelope } from "@containerd-ts/gen/containerd/services/events/v1/events_pb.js";
import { file_containerd_events_container } from "@containerd-ts/gen/containerd/events/container_pb.js";
import { file_containerd_events_content } from "@containerd-ts/gen/containerd/events/content_pb.js";
import { file_containerd_events_namespace } from "@containerd-ts/gen/containerd/events/namespace_pb.js";
import { file_containerd_events_snapshot } from "@containerd-ts/gen/containerd/events/snapshot_pb.js";
import { file_containerd_events_task } from "@containerd-ts/gen/containerd/events/task_pb.js";
import { file_containerd_services_images_v1_events } from "@containerd-ts/gen/containerd/services/images/v1/events_pb.js";
import { toGoJson } from "./gojson.js";
import { goTimeString, rfc3339Nano } from "./time.js";

let registry: Registry | undefined;

/** Every event type containerd publishes, by its bare type URL (`containerd.events.TaskExit`). */
function eventRegistry(): Registry {
  registry ??= createRegistry(
    file_containerd_events_container,
    file_containerd_events_content,
    file_containerd_events_namespace,
    file_containerd_events_snapshot,
    file_containerd_events_task,
    file_containerd_services_images_v1_events,
  );
  return registry;
}

/** The event payload decoded as ctr prints it; unknown types stay `{type_url, value}`. */
export function eventPayload(env: Envelope): unknown {
  const any = env.event;
  if (!any) return null;
  const name = any.typeUrl.replace(/^.*\//, "");
  const schema = eventRegistry().getMessage(name);
  if (!schema) {
    return { type_url: any.typeUrl, value: Buffer.from(any.value).toString("base64") };
  }
  return toGoJson(schema, fromBinary(schema, any.value));
}

/** ctr's line: `2026-11-28 12:44:09.45002949 +0000 UTC default /tasks/start {"container_id":...}` */
export function formatEventLine(env: Envelope): string {
  const ts = env.timestamp ? goTimeString(env.timestamp) : "";
  return `${ts} ${env.namespace} ${env.topic} ${JSON.stringify(eventPayload(env))}`;
}

/** One JSON object per event, for scripts (`--json`). */
export function eventJson(env: Envelope): Record<string, unknown> {
  return {
    timestamp: env.timestamp ? rfc3339Nano(env.timestamp) : null,
    namespace: env.namespace,
    topic: env.topic,
    type: env.event?.typeUrl ?? null,
    event: eventPayload(env),
  };
}
