import { create, toBinary } from "@bufbuild/protobuf";
import type { Any, Timestamp } from "@bufbuild/protobuf/wkt";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { TaskDeleteSchema, TaskExitSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";

/** Where the runtime publishes the events it originates (stored, then fanned out). */
export interface RuntimeEventSink {
  publish(namespace: string, topic: string, event: Any): Promise<unknown>;
}

export const TOPIC_TASK_EXIT = "/tasks/exit";
export const TOPIC_TASK_DELETE = "/tasks/delete";

/** Go's zero time.Time on the wire: containerd's "unset" timestamp (never 1970). */
export const ZERO_TIME_SECONDS = -62135596800n;

export function zeroTimestamp(): Timestamp {
  return create(TimestampSchema, { seconds: ZERO_TIME_SECONDS, nanos: 0 });
}

/** An absent timestamp means Go's zero time, as containerd decodes it. */
export function orZeroTime(ts: Timestamp | undefined): Timestamp {
  return ts ?? zeroTimestamp();
}

/** containerd's Any type URLs are bare message names. */
export function eventAny(typeName: string, value: Uint8Array): Any {
  return { $typeName: "google.protobuf.Any", typeUrl: typeName, value };
}

export interface ExitInfo {
  containerId: string;
  pid: number;
  exitStatus: number;
  exitedAt: Timestamp;
}

/** TaskExit then TaskDelete for a task whose shim is gone (containerd's dead-shim cleanup). */
export async function publishDeadShimEvents(
  sink: RuntimeEventSink,
  namespace: string,
  exit: ExitInfo,
): Promise<void> {
  const taskExit = create(TaskExitSchema, {
    containerId: exit.containerId,
    id: exit.containerId,
    pid: exit.pid,
    exitStatus: exit.exitStatus,
    exitedAt: exit.exitedAt,
  });
  await sink.publish(
    namespace,
    TOPIC_TASK_EXIT,
    eventAny(TaskExitSchema.typeName, toBinary(TaskExitSchema, taskExit)),
  );
  const taskDelete = create(TaskDeleteSchema, {
    containerId: exit.containerId,
    pid: exit.pid,
    exitStatus: exit.exitStatus,
    exitedAt: exit.exitedAt,
  });
  await sink.publish(
    namespace,
    TOPIC_TASK_DELETE,
    eventAny(TaskDeleteSchema.typeName, toBinary(TaskDeleteSchema, taskDelete)),
  );
}
