import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { AnySchema, timestampNow, type Any } from "@bufbuild/protobuf/wkt";
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
import {
  DescriptorSchema,
  type Descriptor,
} from "@containerd-ts/gen/containerd/types/descriptor_pb.js";
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
import { tarDirectory, untarDirectory } from "../diff/tar-directory.js";

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
export type DescriptorInit = MessageInitShape<typeof DescriptorSchema>;

/** containerd's images.MediaTypeContainerd1Checkpoint: the CRIU image dir as a tar. */
export const MEDIA_TYPE_CHECKPOINT =
  "application/vnd.containerd.container.criu.checkpoint.criu.tar";
/** containerd's images.MediaTypeContainerd1CheckpointConfig: the container's spec Any (proto). */
export const MEDIA_TYPE_CHECKPOINT_CONFIG =
  "application/vnd.containerd.container.checkpoint.config.v1+proto";

/** What checkpoints need of the content store (the daemon's ContentService). */
export interface CheckpointContent {
  putBlob(
    ns: string,
    ref: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    opts: { lease?: string },
  ): Promise<{ digest: string; size: number }>;
  /** NotFound when the namespace has no such blob */
  readRange(
    ns: string,
    digest: string,
    offset: number,
    size: number,
  ): { chunks: AsyncIterable<Uint8Array> };
}

/** Where checkpoints go without an image path: the content store, via temp dirs in `scratch`. */
export interface CheckpointStorage {
  /** resolved on first use (the daemon's content store is made lazily) */
  content: () => CheckpointContent;
  /** a directory (created if missing) for the CRIU image dirs on their way to/from content */
  scratch: string;
}

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
  /** Image dirs unpacked from content for a created task, removed once its Start is done. */
  private readonly restoreDirs = new Map<string, string>();

  constructor(
    private readonly containers: ContainerLookup,
    private readonly runtime: TaskRuntime,
    private readonly checkpoints?: CheckpointStorage,
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
    if (!c.spec) throw errInvalidArgument(`container ${c.id} has no spec`);
    let restorePath = restorePathOf(r.options ?? c.runtime.options);
    let unpacked: string | undefined;
    if (restorePath === "" && r.checkpoint) {
      unpacked = restorePath = await this.unpackCheckpoint(ns, r.checkpoint);
    }
    let created;
    try {
      created = await this.createTask(ns, r, c, c.spec, restorePath);
    } catch (err) {
      if (unpacked) await rm(unpacked, { recursive: true, force: true });
      throw err;
    }
    if (unpacked) this.restoreDirs.set(`${ns}/${r.containerId}`, unpacked);
    return { containerId: r.containerId, pid: created.pid };
  }

  private createTask(
    ns: string,
    r: CreateTaskRequest,
    c: TaskContainer,
    spec: Any,
    restorePath: string,
  ): Promise<{ pid: number }> {
    return this.runtime.create(ns, r.containerId, {
      runtime: r.runtimePath !== "" ? r.runtimePath : c.runtime.name,
      spec: spec.value,
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
  }

  /**
   * containerd's Create with a checkpoint descriptor: the CRIU tar from the content store,
   * unpacked into a temp dir the shim restores from (on Start).
   */
  private async unpackCheckpoint(ns: string, d: Descriptor): Promise<string> {
    if (d.mediaType !== MEDIA_TYPE_CHECKPOINT) {
      // containerd's plain fmt error: code Unknown
      throw new ContainerdError(ErrorKind.Unknown, `unsupported checkpoint type "${d.mediaType}"`);
    }
    const storage = this.checkpointStorage();
    const { chunks } = storage.content().readRange(ns, d.digest, 0, 0);
    const dir = await this.scratchDir(storage, "ctrd-checkpoint-");
    try {
      await untarDirectory(chunks, dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return dir;
  }

  private checkpointStorage(): CheckpointStorage {
    if (!this.checkpoints) {
      throw errNotImplemented("checkpoints in the content store need a content store");
    }
    return this.checkpoints;
  }

  private async scratchDir(storage: CheckpointStorage, prefix: string): Promise<string> {
    await mkdir(storage.scratch, { recursive: true, mode: 0o711 });
    return mkdtemp(join(storage.scratch, prefix));
  }

  private async dropRestoreDir(key: string): Promise<void> {
    const dir = this.restoreDirs.get(key);
    if (dir === undefined) return;
    this.restoreDirs.delete(key);
    await rm(dir, { recursive: true, force: true });
  }

  async start(ns: string, id: string, execId: string): Promise<number> {
    const t = await this.task(ns, id);
    if (execId !== "") return t.start(execId);
    // the shims restore from the image dir during Start: it may go once Start is over
    try {
      return await t.start(execId);
    } finally {
      await this.dropRestoreDir(`${ns}/${id}`);
    }
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
    const exit = await this.runtime.delete(ns, id);
    await this.dropRestoreDir(`${ns}/${id}`);
    return exit;
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
   * Checkpoint to the image path given in the runc CheckpointOptions (no descriptors), or, like
   * containerd without one, into a temp dir whose tar goes to the content store with the
   * container's spec, under the caller's lease: the descriptors of both. A failed checkpoint
   * leaves no image dir where there was none (runc creates it before CRIU runs).
   */
  async checkpoint(
    ns: string,
    r: CheckpointTaskRequest,
    lease?: string,
  ): Promise<DescriptorInit[]> {
    const c = await this.container(ns, r.containerId);
    const t = this.runtime.mustGet(ns, r.containerId);
    const imagePath = checkpointPathOf(r.options);
    if (imagePath) {
      // a relative path is the shim's business (it resolves it from the bundle)
      const ours = isAbsolute(imagePath) && !existsSync(imagePath);
      try {
        await t.checkpoint(imagePath, r.options);
      } catch (err) {
        if (ours) rmSync(imagePath, { recursive: true, force: true });
        throw err;
      }
      return [];
    }
    const storage = this.checkpointStorage();
    const dir = await this.scratchDir(storage, "ctd-checkpoint-");
    try {
      await t.checkpoint(dir, r.options);
      const content = storage.content();
      const put = async (
        mediaType: string,
        ref: string,
        data: Parameters<typeof content.putBlob>[2],
      ) => {
        const blob = await content.putBlob(ns, ref, data, { lease });
        return { mediaType, digest: blob.digest, size: BigInt(blob.size), annotations: {} };
      };
      const criu = await put(MEDIA_TYPE_CHECKPOINT, dir, tarDirectory(dir));
      const spec = c.spec ? toBinary(AnySchema, create(AnySchema, c.spec)) : new Uint8Array();
      const config = await put(MEDIA_TYPE_CHECKPOINT_CONFIG, join(dir, "spec"), spec);
      return [criu, config];
    } finally {
      await rm(dir, { recursive: true, force: true });
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
