import { existsSync, rmSync } from "node:fs";
import { isAbsolute } from "node:path";
import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow, type Any } from "@bufbuild/protobuf/wkt";
import {
  ContainerdError,
  ErrorKind,
  errFailedPrecondition,
  errInvalidArgument,
  errNotFound,
  errNotImplemented,
  isNotFound,
} from "@containerd-ts/errdefs";
import { checkIdentifier, isIdentifier } from "../../identifiers.js";
import {
  CheckpointOptionsSchema,
  OptionsSchema,
} from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import type {
  CheckpointTaskRequest,
  CreateTaskRequest,
  ExecProcessRequest,
  UpdateTaskRequest,
} from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import { MetricSchema, type Metric } from "@containerd-ts/gen/containerd/types/metrics_pb.js";
import {
  ProcessSchema,
  Status,
  type ProcessInfo,
} from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import { parseFilters } from "../../filters/index.js";
import { orZeroTime } from "../../runtime/events.js";
import type { CreateTaskOptions, TaskExitInfo } from "../../runtime/manager.js";
import type { ShimTask } from "../../runtime/shim-task.js";

/** What the task service needs to know about a container (the metadata store's record). */
export interface TaskContainer {
  id: string;
  runtime: { name: string; options?: Any };
  spec?: Any;
}

export interface ContainerLookup {
  /** the container, or undefined / a NotFound error when it does not exist */
  get(
    namespace: string,
    id: string,
  ): TaskContainer | undefined | Promise<TaskContainer | undefined>;
}

export type ProcessInit = MessageInitShape<typeof ProcessSchema>;

/** What the service drives per task: a ShimTask in the daemon, a fake in unit tests. */
export type TaskHandle = Pick<
  ShimTask,
  | "id"
  | "namespace"
  | "start"
  | "state"
  | "delete"
  | "kill"
  | "exec"
  | "resizePty"
  | "closeIO"
  | "pids"
  | "pause"
  | "resume"
  | "checkpoint"
  | "update"
  | "stats"
  | "wait"
>;

/** The runtime the service needs (the RuntimeManager). */
export interface TaskRuntime {
  create(ns: string, id: string, o: CreateTaskOptions): Promise<{ pid: number }>;
  /** the task, or NotFound `task <id> not found` */
  mustGet(ns: string, id: string): TaskHandle;
  list(ns: string): TaskHandle[];
  delete(ns: string, id: string): Promise<TaskExitInfo>;
}

const STATUS_NAMES: Record<number, string> = {
  [Status.UNKNOWN]: "unknown",
  [Status.CREATED]: "created",
  [Status.RUNNING]: "running",
  [Status.STOPPED]: "stopped",
  [Status.PAUSED]: "paused",
  [Status.PAUSING]: "pausing",
};

const RUNC_OPTIONS = "containerd.runc.v1.Options";
const RUNC_CHECKPOINT_OPTIONS = "containerd.runc.v1.CheckpointOptions";

function typeNameOf(any: Any): string {
  const slash = any.typeUrl.lastIndexOf("/");
  return slash >= 0 && any.typeUrl.startsWith("type.googleapis.com/")
    ? any.typeUrl.slice(slash + 1)
    : any.typeUrl;
}

/**
 * The Tasks service's logic (containerd's services/tasks local), callable in-process: looks up
 * the container, drives its shim through the runtime manager. Throws errdefs kinds only.
 */
export class TaskService {
  constructor(
    private readonly containers: ContainerLookup,
    private readonly runtime: TaskRuntime,
  ) {}

  private async container(ns: string, id: string): Promise<TaskContainer> {
    // an id no container can have is simply not found (containerd looks it up as is)
    const c = isIdentifier(id) ? await this.containers.get(ns, id) : undefined;
    if (!c) throw errNotFound(`container "${id}" in namespace "${ns}": not found`);
    return c;
  }

  /** The container's task, NotFound `task <id> not found` when it has none. */
  private async task(ns: string, id: string): Promise<TaskHandle> {
    await this.container(ns, id);
    return this.runtime.mustGet(ns, id);
  }

  async create(ns: string, r: CreateTaskRequest): Promise<{ containerId: string; pid: number }> {
    const c = await this.container(ns, r.containerId);
    if (r.checkpoint)
      throw errNotImplemented("restoring a checkpoint from the content store is not supported");
    if (!c.spec) throw errInvalidArgument(`container ${c.id} has no spec`);
    const restorePath = restorePathOf(r.options ?? c.runtime.options);
    const { pid } = await this.runtime.create(ns, r.containerId, {
      runtime: r.runtimePath !== "" ? r.runtimePath : c.runtime.name,
      spec: c.spec.value,
      runtimeOptions: c.runtime.options,
      taskOptions: r.options,
      rootfs: r.rootfs.map((m) => ({
        type: m.type,
        source: m.source,
        target: m.target,
        options: m.options,
      })),
      stdin: r.stdin,
      stdout: r.stdout,
      stderr: r.stderr,
      terminal: r.terminal,
      checkpoint: restorePath,
    });
    return { containerId: r.containerId, pid };
  }

  async start(ns: string, id: string, execId: string): Promise<number> {
    const t = await this.task(ns, id);
    return t.start(execId);
  }

  async delete(ns: string, id: string): Promise<TaskExitInfo> {
    const t = await this.task(ns, id);
    const state = await t.state().catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (
      state &&
      (state.status === Status.RUNNING ||
        state.status === Status.PAUSED ||
        state.status === Status.PAUSING)
    ) {
      throw errFailedPrecondition(
        `task must be stopped before deletion: ${STATUS_NAMES[state.status]}: failed precondition`,
      );
    }
    return this.runtime.delete(ns, id);
  }

  async deleteProcess(
    ns: string,
    id: string,
    execId: string,
  ): Promise<TaskExitInfo & { id: string }> {
    if (execId === "") throw errInvalidArgument("exec id cannot be empty");
    const t = await this.task(ns, id);
    const r = await t.delete(execId);
    return { id: execId, pid: r.pid, exitStatus: r.exitStatus, exitedAt: orZeroTime(r.exitedAt) };
  }

  async get(ns: string, id: string, execId: string): Promise<ProcessInit> {
    const t = await this.task(ns, id);
    return processState(t, execId);
  }

  async list(ns: string): Promise<ProcessInit[]> {
    const out: ProcessInit[] = [];
    const states = await Promise.all(
      this.runtime.list(ns).map((t) =>
        processState(t, "").catch((err: unknown) => {
          if (isNotFound(err)) return undefined; // raced with a delete
          throw err;
        }),
      ),
    );
    for (const s of states) if (s) out.push(s);
    return out;
  }

  async kill(ns: string, id: string, execId: string, signal: number, all: boolean): Promise<void> {
    const t = await this.task(ns, id);
    await t.kill(execId, signal, execId === "" ? all : false);
  }

  async exec(ns: string, r: ExecProcessRequest): Promise<void> {
    if (r.execId === "") throw errInvalidArgument("exec id cannot be empty");
    const t = await this.task(ns, r.containerId);
    checkIdentifier(r.execId, `invalid exec id ${r.execId}: `);
    await t.exec({
      execId: r.execId,
      stdin: r.stdin,
      stdout: r.stdout,
      stderr: r.stderr,
      terminal: r.terminal,
      spec: r.spec,
    });
  }

  async resizePty(
    ns: string,
    id: string,
    execId: string,
    width: number,
    height: number,
  ): Promise<void> {
    const t = await this.task(ns, id);
    await t.resizePty(execId, width, height);
  }

  async closeIO(ns: string, id: string, execId: string, stdin: boolean): Promise<void> {
    const t = await this.task(ns, id);
    if (stdin) await t.closeIO(execId);
  }

  async pause(ns: string, id: string): Promise<void> {
    await (await this.task(ns, id)).pause();
  }

  async resume(ns: string, id: string): Promise<void> {
    await (await this.task(ns, id)).resume();
  }

  async listPids(ns: string, id: string): Promise<ProcessInfo[]> {
    const t = await this.task(ns, id);
    return (await t.pids()).processes;
  }

  /**
   * Checkpoint to the image path given in the runc CheckpointOptions. Writing a checkpoint
   * into the content store (no image path) needs a content service this daemon lacks. A failed
   * checkpoint leaves no image dir where there was none (runc creates it before CRIU runs).
   */
  async checkpoint(ns: string, r: CheckpointTaskRequest): Promise<void> {
    const t = await this.task(ns, r.containerId);
    const imagePath = checkpointPathOf(r.options);
    if (!imagePath) {
      throw errNotImplemented(
        "checkpoint into the content store is not supported: set an image path",
      );
    }
    // a relative path is the shim's business (it resolves it from the bundle)
    const ours = isAbsolute(imagePath) && !existsSync(imagePath);
    try {
      await t.checkpoint(imagePath, r.options);
    } catch (err) {
      if (ours) rmSync(imagePath, { recursive: true, force: true });
      throw err;
    }
  }

  async update(ns: string, r: UpdateTaskRequest): Promise<void> {
    const t = await this.task(ns, r.containerId);
    await t.update(r.resources, r.annotations);
  }

  async metrics(ns: string, filters: string[]): Promise<Metric[]> {
    let filter;
    try {
      filter = parseFilters(filters);
    } catch (err) {
      // containerd returns the ParseAll error as is: an untyped error, code Unknown
      throw new ContainerdError(
        ErrorKind.Unknown,
        err instanceof Error ? err.message : String(err),
        {
          cause: err,
        },
      );
    }
    const picked = this.runtime.list(ns).filter((t) =>
      filter.match((path) => {
        switch (path[0]) {
          case "id":
            return t.id;
          case "namespace":
            return t.namespace;
          default:
            return undefined;
        }
      }),
    );
    const collected = await Promise.all(
      picked.map(async (t) => {
        const timestamp = timestampNow();
        try {
          const data = await t.stats();
          return create(MetricSchema, { timestamp, id: t.id, data });
        } catch {
          // one task's failing stats never fail the others' (containerd logs and goes on)
          return undefined;
        }
      }),
    );
    return collected.filter((m): m is Metric => m !== undefined);
  }

  async wait(
    ns: string,
    id: string,
    execId: string,
    signal?: AbortSignal,
  ): Promise<{ exitStatus: number; exitedAt: ReturnType<typeof orZeroTime> }> {
    const t = await this.task(ns, id);
    const r = await t.wait(execId, signal);
    return { exitStatus: r.exitStatus, exitedAt: orZeroTime(r.exitedAt) };
  }
}

/**
 * containerd's getProcessState: a State call with its 2 s deadline. Like containerd, the
 * process leaves container_id empty (id names the task or the exec).
 */
async function processState(t: TaskHandle, execId: string): Promise<ProcessInit> {
  let s;
  try {
    s = await t.state(execId);
  } catch (err) {
    if (isNotFound(err)) throw err;
    if (err instanceof ContainerdError && err.kind === ErrorKind.Unavailable)
      throw errNotFound(`task ${t.id} not found`);
    // containerd reports an unreachable state as UNKNOWN rather than failing the call
    return {
      id: execId || t.id,
      status: Status.UNKNOWN,
      exitedAt: orZeroTime(undefined),
    };
  }
  return {
    id: execId || t.id,
    pid: s.pid,
    status: s.status as number as Status,
    stdin: s.stdin,
    stdout: s.stdout,
    stderr: s.stderr,
    terminal: s.terminal,
    exitStatus: s.exitStatus,
    exitedAt: orZeroTime(s.exitedAt),
  };
}

function restorePathOf(options: Any | undefined): string {
  if (!options || typeNameOf(options) !== RUNC_OPTIONS) return "";
  return fromBinary(OptionsSchema, options.value).criuImagePath;
}

function checkpointPathOf(options: Any | undefined): string {
  if (!options || typeNameOf(options) !== RUNC_CHECKPOINT_OPTIONS) return "";
  return fromBinary(CheckpointOptionsSchema, options.value).imagePath;
}
