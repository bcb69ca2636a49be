import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import { requireNamespace } from "../../context.js";
import { LEASE_HEADER } from "../content/grpc.js";
import { TaskService } from "./service.js";

/** Runs a handler with the call's namespace; the server's interceptor turns errors into codes. */
function handle<T>(ctx: HandlerContext, fn: (ns: string) => Promise<T>): Promise<T> {
  return fn(requireNamespace(ctx.requestHeader));
}

/** containerd.services.tasks.v1.Tasks over gRPC: converts only, TaskService does the work. */
export function registerTasks(router: ConnectRouter, tasks: TaskService): void {
  router.service(Tasks, {
    create: (r, ctx) => handle(ctx, (ns) => tasks.create(ns, r)),
    start: (r, ctx) =>
      handle(ctx, async (ns) => ({ pid: await tasks.start(ns, r.containerId, r.execId) })),
    delete: (r, ctx) => handle(ctx, (ns) => tasks.delete(ns, r.containerId)),
    deleteProcess: (r, ctx) =>
      handle(ctx, (ns) => tasks.deleteProcess(ns, r.containerId, r.execId)),
    get: (r, ctx) =>
      handle(ctx, async (ns) => ({ process: await tasks.get(ns, r.containerId, r.execId) })),
    list: (_r, ctx) => handle(ctx, async (ns) => ({ tasks: await tasks.list(ns) })),
    kill: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.kill(ns, r.containerId, r.execId, r.signal, r.all);
        return {};
      }),
    exec: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.exec(ns, r);
        return {};
      }),
    resizePty: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.resizePty(ns, r.containerId, r.execId, r.width, r.height);
        return {};
      }),
    closeIO: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.closeIO(ns, r.containerId, r.execId, r.stdin);
        return {};
      }),
    pause: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.pause(ns, r.containerId);
        return {};
      }),
    resume: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.resume(ns, r.containerId);
        return {};
      }),
    listPids: (r, ctx) =>
      handle(ctx, async (ns) => ({ processes: await tasks.listPids(ns, r.containerId) })),
    checkpoint: (r, ctx) =>
      handle(ctx, async (ns) => ({
        // containerd writes the checkpoint's blobs under the caller's lease
        descriptors: await tasks.checkpoint(
          ns,
          r,
          ctx.requestHeader.get(LEASE_HEADER) || undefined,
        ),
      })),
    update: (r, ctx) =>
      handle(ctx, async (ns) => {
        await tasks.update(ns, r);
        return {};
      }),
    metrics: (r, ctx) =>
      handle(ctx, async (ns) => ({ metrics: await tasks.metrics(ns, r.filters) })),
    wait: (r, ctx) => handle(ctx, (ns) => tasks.wait(ns, r.containerId, r.execId, ctx.signal)),
  });
}
