import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import {
  EventHistory,
  SequencedEnvelopeSchema,
  type Position,
} from "@containerd-ts/gen/containerd_ts/events/v1/history_pb.js";
import type { DaemonContext } from "../../context.js";
import { addPlugins } from "../introspection/domain.js";
import { historyBounds, replay } from "./replay.js";
import type { Point } from "./range.js";

function toPoint(p: Position | undefined, field: string): Point | undefined {
  switch (p?.point.case) {
    case "seq":
      if (p.point.value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw errInvalidArgument(`${field}: sequence number ${p.point.value} out of range`);
      }
      return { seq: Number(p.point.value) };
    case "timestamp":
      return { time: p.point.value };
    default:
      return undefined; // unset Position or unset point: no bound
  }
}

/**
 * containerd_ts.events.v1.EventHistory over ctx.events: the stored history containerd lacks.
 * Streams end at `until`, at the end of the history (no follow), or when the client or the
 * daemon goes away.
 */
export function registerEventHistoryService(router: ConnectRouter, ctx: DaemonContext): void {
  addPlugins(ctx.plugins, [
    { type: "io.containerd.grpc.v1", id: "events-history", requires: ["io.containerd.event.v1"] },
  ]);
  router.service(EventHistory, {
    async *replay(req, call) {
      const query = {
        filters: req.filters,
        since: toPoint(req.since, "since"),
        until: toPoint(req.until, "until"),
        follow: req.follow,
      };
      const signal = AbortSignal.any([call.signal, ctx.shutdown]);
      for await (const e of replay(ctx.events, query, signal)) {
        yield create(SequencedEnvelopeSchema, { ...e, seq: BigInt(e.seq) });
      }
    },
    bounds: async () => {
      const b = historyBounds(ctx.events);
      return { ...b, firstSeq: BigInt(b.firstSeq), lastSeq: BigInt(b.lastSeq) };
    },
  });
}
