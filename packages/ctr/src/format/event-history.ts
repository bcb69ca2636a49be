import { create } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "@containerd-ts/gen/containerd/services/events/v1/events_pb.js";
import type { SequencedEnvelope } from "@containerd-ts/gen/containerd_ts/events/v1/history_pb.js";
import { eventJson, formatEventLine } from "./events.js";

const envelope = (e: SequencedEnvelope) =>
  create(EnvelopeSchema, {
    timestamp: e.timestamp,
    namespace: e.namespace,
    topic: e.topic,
    event: e.event,
  });

/** ctr's event line led by the sequence number: `42 2026-11-28 12:44:09.45 +0000 UTC default ...` */
export function sequencedLine(e: SequencedEnvelope): string {
  return `${e.seq} ${formatEventLine(envelope(e))}`;
}

/** --json: the live form plus `seq` (a number: sequence numbers stay below 2^53). */
export function sequencedJson(e: SequencedEnvelope): Record<string, unknown> {
  return { seq: Number(e.seq), ...eventJson(envelope(e)) };
}
