import { Code, ConnectError } from "@connectrpc/connect";
import {
  EventHistory,
  type BoundsResponse,
  type SequencedEnvelope,
} from "@containerd-ts/gen/containerd_ts/events/v1/history_pb.js";
import type { ContainerdClient } from "../client/client.js";
import type { EventPoint } from "./event-point.js";

export interface HistoryOptions {
  filters: string[];
  since?: EventPoint;
  until?: EventPoint;
}

/** containerd has no history service; say what that means instead of "not implemented". */
function noHistory(err: unknown): unknown {
  if (err instanceof ConnectError && err.code === Code.Unimplemented) {
    return new Error(
      "this daemon keeps no event history (--since/--until need containerd-ts; " +
        `containerd answers: ${err.rawMessage})`,
    );
  }
  return err;
}

/** The warning to print when retention already dropped part of the requested range. */
export function truncationWarning(since: EventPoint | undefined, b: BoundsResponse): string {
  if (b.firstSeq <= 1n) return ""; // nothing was ever dropped
  const point = since?.point;
  const first = b.firstTimestamp;
  const older =
    point?.case === "seq"
      ? point.value < b.firstSeq
      : point?.case === "timestamp" && first
        ? point.value.seconds < first.seconds ||
          (point.value.seconds === first.seconds && point.value.nanos < first.nanos)
        : true; // from the oldest retained
  return older
    ? `warning: events before sequence ${b.firstSeq} were dropped by the daemon's retention`
    : "";
}

/**
 * The stored events from `since` to `until`, then live ones: the stream ends at `until`
 * (at once when it is past) and never without one. Warns on stderr when the start is older
 * than what the daemon retains.
 */
export async function* eventHistory(
  client: ContainerdClient,
  opts: HistoryOptions,
): AsyncGenerator<SequencedEnvelope> {
  const history = client.service(EventHistory);
  try {
    const warning = truncationWarning(opts.since, await history.bounds({}, client.call()));
    if (warning) process.stderr.write(`ctr-ts: ${warning}\n`);
    // a followed stream has no deadline
    yield* history.replay({ ...opts, follow: true });
  } catch (err) {
    throw noHistory(err);
  }
}
