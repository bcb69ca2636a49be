import { join } from "node:path";
import type { ConnectRouter } from "@connectrpc/connect";
import { EventsTtrpcServer, type EventForwarder } from "../ttrpc-events/index.js";
import type { DaemonContext } from "../context.js";
import { contentServiceFor } from "../services/content/domain.js";
import {
  TaskService,
  type CheckpointStorage,
  type ContainerLookup,
} from "../services/tasks/service.js";
import { registerTasks } from "../services/tasks/grpc.js";
import type { RuntimeEventSink } from "./events.js";
import { RuntimeManager, type RuntimeLogger } from "./manager.js";
import { recoverTasks } from "./recovery.js";

/** The parts of the DaemonContext that tasks need (structurally a subset of it). */
export interface TasksDaemonContext {
  readonly config: {
    readonly address: string;
    readonly root: string;
    readonly state: string;
    readonly ttrpcAddress?: string;
    readonly logLevel?: string;
  };
  readonly containers: ContainerLookup;
  readonly events: RuntimeEventSink & EventForwarder;
  readonly log?: unknown;
}

interface TasksRuntime {
  manager: RuntimeManager;
  service: TaskService;
  events?: EventsTtrpcServer;
}

const runtimes = new WeakMap<object, TasksRuntime>();

/** Adapts whatever logger the daemon has (pino-, console- or bunyan-like) to ours. */
function loggerOf(log: unknown): RuntimeLogger {
  const l = log as Partial<Record<keyof RuntimeLogger, (...a: unknown[]) => void>> | undefined;
  const pick = (name: keyof RuntimeLogger) =>
    typeof l?.[name] === "function"
      ? (msg: string, fields?: Record<string, unknown>) => l[name]!.call(l, msg, fields)
      : () => {};
  return { debug: pick("debug"), info: pick("info"), warn: pick("warn"), error: pick("error") };
}

/** The one runtime manager + task service of a daemon context (created on first use). */
export function tasksRuntimeFor(ctx: TasksDaemonContext): TasksRuntime {
  let rt = runtimes.get(ctx);
  if (!rt) {
    const manager = new RuntimeManager({
      root: ctx.config.root,
      state: ctx.config.state,
      address: ctx.config.address,
      ttrpcAddress: ctx.config.ttrpcAddress,
      events: ctx.events,
      log: loggerOf(ctx.log),
      debugShims: ctx.config.logLevel === "debug" || ctx.config.logLevel === "trace",
    });
    rt = { manager, service: new TaskService(ctx.containers, manager, checkpointStorageOf(ctx)) };
    runtimes.set(ctx, rt);
  }
  return rt;
}

/**
 * Checkpoints without an image path go to the daemon's content store (a whole DaemonContext
 * has one), through temp dirs in the state dir.
 */
function checkpointStorageOf(ctx: TasksDaemonContext): CheckpointStorage | undefined {
  if (!("store" in ctx)) return undefined;
  return {
    content: () => contentServiceFor(ctx as unknown as DaemonContext),
    scratch: join(ctx.config.state, "checkpoints"),
  };
}

/** Service registration for src/server.ts. */
export function registerTasksService(router: ConnectRouter, ctx: TasksDaemonContext): void {
  registerTasks(router, tasksRuntimeFor(ctx).service);
}

/**
 * Lifecycle hook for src/main.ts: the ttrpc events server on `<address>.ttrpc` first (so
 * reconnected shims can deliver spooled events), then reconnection of surviving shims.
 */
export const tasksLifecycle = {
  name: "tasks",
  async start(ctx: TasksDaemonContext): Promise<void> {
    const rt = tasksRuntimeFor(ctx);
    const log = loggerOf(ctx.log);
    rt.events = new EventsTtrpcServer(ctx.events, (err) =>
      log.warn("ttrpc events connection", { error: String(err) }),
    );
    await rt.events.listen(rt.manager.ttrpcAddress);
    const report = await recoverTasks(rt.manager, {
      log,
      // a container deleted while the daemon was down has no runtime to ask: undefined
      runtimeOf: async (ns, id) => {
        try {
          return (await ctx.containers.get(ns, id))?.runtime.name;
        } catch {
          return undefined;
        }
      },
    });
    if (report.reconnected.length + report.cleaned.length + report.skipped.length > 0) {
      log.info("tasks recovered", { ...report });
    }
    active.add(rt);
  },
  async stop(): Promise<void> {
    for (const rt of active) {
      rt.manager.close();
      await rt.events?.close();
    }
    active.clear();
  },
};

const active = new Set<TasksRuntime>();
