import type { ConnectRouter } from "@connectrpc/connect";
import { errInvalidArgument, isInvalidArgument } from "@containerd-ts/errdefs";
import { Events } from "@containerd-ts/gen/containerd/services/events/v1/events_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import type { StoredEvent } from "../../store/index.js";

export const envelopeToProto = (e: StoredEvent) => ({
  timestamp: e.timestamp,
  namespace: e.namespace,
  topic: e.topic,
  event: e.event,
});

/**
 * containerd.services.events.v1.Events over ctx.events. Subscribe sees every
 * namespace (as containerd) and only ends when the client or the daemon goes away.
 */
export function registerEventsService(router: ConnectRouter, ctx: DaemonContext): void {
  const events = ctx.events;
  router.service(Events, {
    publish: async (req, call) => {
      if (!req.event) throw errInvalidArgument("event must be set");
      await events.publish(requireNamespace(call.requestHeader), req.topic, req.event);
      return {};
    },
    forward: async (req) => {
      if (!req.envelope) throw errInvalidArgument("envelope must be set");
      await events.forward(req.envelope);
      return {};
    },
    async *subscribe(req, call) {
      const signal = AbortSignal.any([call.signal, ctx.shutdown]);
      let sub;
      try {
        sub = events.subscribe({ filters: req.filters, signal });
      } catch (err) {
        // containerd reports a bad filter as an untyped stream error (code Unknown)
        if (!isInvalidArgument(err)) throw err;
        throw new Error(
          `subscription error: failed parsing subscription filters: ${(err as Error).message}`,
        );
      }
      for await (const e of sub) {
        yield envelopeToProto(e);
      }
    },
  });
}
