import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  errAlreadyExists,
  errFailedPrecondition,
  errNotFound,
} from "@containerd-ts/errdefs/errors.js";
import {
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskOOMSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from "@containerd-ts/gen/containerd/events/task_pb.js";
import type { Any } from "@bufbuild/protobuf/wkt";
import { Container, type CreateParams } from "./container.js";
import type { EventPublisher } from "./events/publisher.js";
import { OomWatcher } from "./oom.js";
import type { ShimProcess } from "./process.js";
import type { ExitInfo } from "./reaper.js";
import type { RuntimeFactory } from "./runtime.js";
import type { StdioPaths } from "./stdio.js";
import type { ShimSys } from "./sys.js";
import { toTimestamp } from "./time.js";

export interface TaskServiceDeps {
  namespace: string;
  sys: ShimSys;
  runtimeFactory: RuntimeFactory;
  publisher: EventPublisher;
  /** called once Shutdown found no container left */
  onShutdown: () => void;
  log?: (msg: string, err?: unknown) => void;
}

const MAX_UNCLAIMED_EXITS = 1024;

/**
 * The task service's domain: containers by id, exit routing from the reaper, events in the
 * order containerd's shim emits them. Transport-free: the ttrpc adapter converts protos.
 */
export class TaskService {
  readonly containers = new Map<string, Container>();
  private readonly creating = new Set<string>();
  /** exits of pids not (yet) known: an exec can exit before its pid file is read */
  private readonly unclaimed = new Map<number, ExitInfo>();
  private readonly oom: OomWatcher;
  private shuttingDown = false;

  constructor(private readonly deps: TaskServiceDeps) {
    this.oom = new OomWatcher((id) => this.publish(TaskOOMSchema, { containerId: id }));
  }

  container(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw errNotFound("container not created");
    return c;
  }

  async create(p: Omit<CreateParams, "namespace">): Promise<Container> {
    if (this.containers.has(p.id) || this.creating.has(p.id))
      throw errAlreadyExists(`container ${p.id}`);
    this.creating.add(p.id);
    const since = new Date();
    try {
      const c = await Container.create(
        { ...p, namespace: this.deps.namespace },
        this.deps.sys,
        this.deps.runtimeFactory,
      );
      this.containers.set(p.id, c);
      this.publish(TaskCreateSchema, {
        containerId: p.id,
        bundle: p.bundle,
        rootfs: p.rootfs,
        io: {
          stdin: p.stdio.stdin,
          stdout: p.stdio.stdout,
          stderr: p.stdio.stderr,
          terminal: p.stdio.terminal,
        },
        checkpoint: p.checkpoint,
        pid: c.init.pid,
      });
      this.claimEarlyExit(c, c.init, since);
      return c;
    } finally {
      this.creating.delete(p.id);
    }
  }

  async start(id: string, execId: string): Promise<ShimProcess> {
    const c = this.container(id);
    const p = c.process(execId);
    p.check("start");
    if (p.starting) throw errFailedPrecondition(`process ${p.id} is already starting`);
    const since = new Date();
    p.starting = true;
    try {
      if (p.isInit) await c.startInit();
      else await c.startExec(p);
    } catch (e) {
      p.starting = false;
      // a failed exec never runs: let its Wait callers go
      if (!p.isInit) p.releaseWaiters();
      this.applyDeferred(c, p);
      throw e;
    }
    if (p.isInit) {
      this.publish(TaskStartSchema, { containerId: id, pid: p.pid });
      this.oom.add(id, () => c.cgroup);
    } else {
      this.publish(TaskExecStartedSchema, { containerId: id, execId, pid: p.pid });
      this.claimEarlyExit(c, p, since);
    }
    p.starting = false;
    this.applyDeferred(c, p);
    return p;
  }

  async delete(id: string, execId: string): Promise<ShimProcess> {
    const c = this.container(id);
    const p = c.process(execId);
    if (!p.isInit) {
      await c.deleteExec(p);
      // a process deleted before it ran never exits: nobody may wait for it forever
      p.releaseWaiters();
      return p;
    }
    await c.deleteInit();
    p.releaseWaiters();
    this.containers.delete(id);
    this.oom.remove(id);
    this.publish(TaskDeleteSchema, {
      containerId: id,
      pid: p.pid,
      exitStatus: p.exitStatus,
      exitedAt: toTimestamp(p.exitedAt),
    });
    return p;
  }

  exec(id: string, execId: string, stdio: StdioPaths, spec: Record<string, unknown>): void {
    const c = this.container(id);
    c.addExec(execId, stdio, spec);
    this.publish(TaskExecAddedSchema, { containerId: id, execId });
  }

  async kill(id: string, execId: string, signal: number, all: boolean): Promise<void> {
    const c = this.container(id);
    await c.kill(c.process(execId), signal, all);
  }

  async pause(id: string): Promise<void> {
    await this.container(id).pause();
    this.publish(TaskPausedSchema, { containerId: id });
  }

  async resume(id: string): Promise<void> {
    await this.container(id).resume();
    this.publish(TaskResumedSchema, { containerId: id });
  }

  /** Resolves once the process exited and its TaskExit was forwarded. */
  async wait(id: string, execId: string): Promise<ShimProcess> {
    const p = this.container(id).process(execId);
    await p.waited;
    return p;
  }

  /** The cgroup statistics (io.containerd.cgroups.v1 or v2 Metrics in an Any). */
  async stats(id: string): Promise<Any> {
    const c = this.container(id);
    const cg = c.cgroup;
    if (!cg) throw errNotFound("cgroup does not exist");
    const { metricsAny } = await import("./metrics.js");
    return metricsAny(cg);
  }

  /** Shutdown: only a shim holding no container goes away. */
  shutdown(): void {
    if (this.containers.size > 0 || this.creating.size > 0 || this.shuttingDown) return;
    this.shuttingDown = true;
    this.oom.stop();
    this.deps.onShutdown();
  }

  /** The reaper's report of one exit. */
  handleExit(e: ExitInfo): void {
    for (const c of this.containers.values()) {
      const p = c.byPid(e.pid);
      if (!p) continue;
      if (p.starting) p.deferredExit = e;
      else this.applyExit(c, p, e);
      return;
    }
    this.unclaimed.set(e.pid, e);
    if (this.unclaimed.size > MAX_UNCLAIMED_EXITS) {
      this.unclaimed.delete(this.unclaimed.keys().next().value!);
    }
  }

  /** An exit recorded before the pid was known, and after this start began, is this process's. */
  private claimEarlyExit(c: Container, p: ShimProcess, since: Date): void {
    const e = this.unclaimed.get(p.pid);
    if (!e) return;
    this.unclaimed.delete(p.pid);
    if (e.exitedAt < since) return;
    if (p.starting) p.deferredExit = e;
    else this.applyExit(c, p, e);
  }

  private applyDeferred(c: Container, p: ShimProcess): void {
    const e = p.deferredExit;
    p.deferredExit = undefined;
    if (e) this.applyExit(c, p, e);
  }

  private applyExit(c: Container, p: ShimProcess, e: ExitInfo): void {
    const wasPaused = p.state === "paused";
    if (!p.setExited(e)) return;
    if (p.isInit) {
      this.oom.check(c.id);
      this.oom.remove(c.id);
      if (wasPaused)
        c.runtime.resume(c.id).catch((err) => this.deps.log?.("resume after exit", err));
      if (c.killAllOnExit) {
        c.runtime
          .kill(c.id, 9, { all: true })
          .catch((err) => this.deps.log?.("kill all after exit", err));
      }
    }
    void this.publish(TaskExitSchema, {
      containerId: c.id,
      id: p.id,
      pid: e.pid,
      exitStatus: e.status,
      exitedAt: toTimestamp(e.exitedAt),
    }).then(() => p.releaseWaiters());
  }

  private publish<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Promise<void> {
    try {
      return this.deps.publisher.publish(schema, create(schema, init));
    } catch (err) {
      this.deps.log?.(`publish ${schema.typeName}`, err);
      return Promise.resolve();
    }
  }
}
