import type { ConnectRouter } from "@connectrpc/connect";
import { errNotFound } from "@containerd-ts/errdefs";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@containerd-ts/gen/grpc/health/v1/health_pb.js";
import type { DaemonContext } from "../../context.js";

/** grpc.health.v1: the daemon as a whole ("") is SERVING while it runs. */
export function registerHealthService(router: ConnectRouter, ctx: DaemonContext): void {
  const check = (service: string) => {
    if (service !== "") throw errNotFound(`unknown service ${service}`);
    return { status: ctx.shutdown.aborted ? Status.NOT_SERVING : Status.SERVING };
  };
  router.service(Health, {
    check: (req) => check(req.service),
    async *watch(req, call) {
      yield check(req.service);
      const signal = AbortSignal.any([call.signal, ctx.shutdown]);
      await new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      if (ctx.shutdown.aborted && !call.signal.aborted) yield { status: Status.NOT_SERVING };
    },
  });
}
