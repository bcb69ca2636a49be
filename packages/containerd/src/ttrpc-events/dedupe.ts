import { fromBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { TaskExitSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";

const TASK_EXIT_TOPIC = "/tasks/exit";

/**
 * Remembers the last `capacity` TaskExit identities (namespace, container, exec id, pid,
 * exited_at): a shim that re-sends a spooled exit after a reconnect is not published twice.
 */
export class ExitDeduper {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 4096) {}

  /** true when this envelope is a TaskExit already let through */
  isDuplicate(namespace: string, topic: string, event: Any | undefined): boolean {
    if (topic !== TASK_EXIT_TOPIC || !event) return false;
    let key: string;
    try {
      const e = fromBinary(TaskExitSchema, event.value);
      const at = e.exitedAt ? `${e.exitedAt.seconds}.${e.exitedAt.nanos}` : "-";
      key = `${namespace}\0${e.containerId}\0${e.id}\0${e.pid}\0${at}`;
    } catch {
      return false; // not decodable: store it as sent, never drop
    }
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return false;
  }
}
