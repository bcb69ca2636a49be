import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  ContainerdError,
  kindOf,
  errAlreadyExists,
  errFailedPrecondition,
  errNotFound,
  isNotFound,
} from "@containerd-ts/errdefs/errors.js";
import { validateIdentifier } from "@containerd-ts/errdefs/identifiers.js";
import { cgroupFromSpecPath, locateCgroup, sameCgroup, type ContainerCgroup } from "./cgroups.js";
import { killError, runtimeError, RUNTIME_TIMEOUTS, withDeadline } from "./deadline.js";
import { mountOne, unmountAll, type MountSpec } from "./mounts.js";
import { decodeOptions, writeBundleOptions } from "./options.js";
import { execPidFile, initPidFile, readPidFile } from "./paths.js";
import { ProcessIO } from "./process-io.js";
import { ShimProcess } from "./process.js";
import {
  runtimeConfig,
  type CheckpointRequest,
  type OciRuntime,
  type RuntimeFactory,
} from "./runtime.js";
import type { StdioPaths } from "./stdio.js";
import type { ShimSys } from "./sys.js";
import type { Any } from "@bufbuild/protobuf/wkt";

export interface CreateParams {
  id: string;
  bundle: string;
  namespace: string;
  rootfs: MountSpec[];
  stdio: StdioPaths;
  options: Any | undefined;
  /** restore from this CRIU image on Start instead of `runtime create` */
  checkpoint: string;
  parentCheckpoint?: string;
}

/** What Start needs to restore a container created from a checkpoint. */
interface RestorePlan {
  imagePath: string;
  parentPath?: string;
  workPath: string;
  noPivot?: boolean;
}

/**
 * One container in the shim: its init process, its exec'd processes, the runtime that drives
 * it and what Create set up (rootfs mounts). Operations check the lifecycle table first, then
 * call the runtime with a deadline.
 */
export class Container {
  readonly execs = new Map<string, ShimProcess>();
  private readonly reserved = new Set<string>();
  private knownCgroup: ContainerCgroup | undefined;
  /** set while a container created from a checkpoint waits for Start */
  private restore: RestorePlan | undefined;

  private constructor(
    readonly id: string,
    readonly namespace: string,
    readonly bundle: string,
    readonly init: ShimProcess,
    readonly runtime: OciRuntime,
    private readonly sys: ShimSys,
    /** the rootfs directory the shim mounted, to unmount on delete ("" when none) */
    private readonly mountedRootfs: string,
    /** kill every process when init exits (no private pid namespace) */
    readonly killAllOnExit: boolean,
  ) {}

  /**
   * Mounts the rootfs, runs `runtime create`, wires stdio; on failure leaves nothing behind.
   * With a checkpoint nothing runs yet: Start restores it (as the runc shim does).
   */
  static async create(p: CreateParams, sys: ShimSys, factory: RuntimeFactory): Promise<Container> {
    validateIdentifier(p.id, "id");
    const opts = decodeOptions(p.options);
    const runtime = await factory(runtimeConfig(p.bundle, p.namespace, opts));
    let rootfs = "";
    let io: ProcessIO | undefined;
    let created = false;
    try {
      if (p.rootfs.length > 0) {
        rootfs = join(p.bundle, "rootfs");
        mkdirSync(rootfs, { recursive: true, mode: 0o711 });
      }
      writeBundleOptions(p.bundle, opts);
      for (const m of p.rootfs) mountOne(sys, m, rootfs);
      io = await ProcessIO.prepare(sys, p.stdio, p.id, p.namespace);
      const spec = readSpec(p.bundle);
      if (p.checkpoint) {
        const init = new ShimProcess(p.id, "", p.stdio);
        init.io = io;
        const c = new Container(
          p.id,
          p.namespace,
          p.bundle,
          init,
          runtime,
          sys,
          rootfs,
          killAllOnExit(spec),
        );
        c.knownCgroup = cgroupFromSpecPath(spec?.linux?.cgroupsPath);
        c.restore = {
          imagePath: p.checkpoint,
          parentPath: p.parentCheckpoint || undefined,
          workPath: opts.criuWorkPath || join(p.bundle, "work"),
          noPivot: opts.noPivotRoot || undefined,
        };
        return c;
      }
      const pidFile = initPidFile(p.bundle);
      try {
        await withDeadline(
          runtime.create(p.id, {
            bundle: p.bundle,
            pidFile,
            noPivot: opts.noPivotRoot || undefined,
            noNewKeyring: opts.noNewKeyring || undefined,
            ...io.runtimeOptions,
          }),
          RUNTIME_TIMEOUTS.create,
          "runtime create",
        );
      } catch (e) {
        throw runtimeError(e, "OCI runtime create failed");
      }
      created = true;
      await io.established();
      const init = new ShimProcess(p.id, "", p.stdio);
      init.io = io;
      init.pid = readPidFile(pidFile);
      const c = new Container(
        p.id,
        p.namespace,
        p.bundle,
        init,
        runtime,
        sys,
        rootfs,
        killAllOnExit(spec),
      );
      c.knownCgroup = cgroupFromSpecPath(spec?.linux?.cgroupsPath);
      return c;
    } catch (e) {
      io?.close();
      // the runtime made the container but the rest failed (e.g. no console master): undo it
      if (created) {
        await withDeadline(
          runtime.delete(p.id, { force: true }),
          RUNTIME_TIMEOUTS.delete,
          "runtime delete",
        ).catch(() => undefined);
      }
      if (rootfs) {
        try {
          unmountAll(sys, rootfs);
        } catch {
          // reported by the original error
        }
      }
      throw e;
    }
  }

  /** The init ("" ) or an exec'd process; NotFound for an unknown exec id. */
  process(execId: string): ShimProcess {
    if (execId === "") return this.init;
    const p = this.execs.get(execId);
    if (!p) throw errNotFound(`process does not exist ${execId}`);
    return p;
  }

  all(): ShimProcess[] {
    return [this.init, ...this.execs.values()];
  }

  byPid(pid: number): ShimProcess | undefined {
    return this.all().find((p) => p.pid === pid && p.pid !== 0);
  }

  /**
   * The container's cgroup: from the spec's cgroupsPath, else from where its init runs — but
   * not while the init still sits in the shim's own cgroup (runc-ts's init joins the container's
   * cgroup only just before it execs).
   */
  get cgroup(): ContainerCgroup | undefined {
    if (this.knownCgroup || this.init.pid === 0) return this.knownCgroup;
    const found = locateCgroup(this.init.pid);
    const own = locateCgroup(process.pid);
    if (found && !(own && sameCgroup(found, own))) this.knownCgroup = found;
    return this.knownCgroup;
  }

  async startInit(): Promise<void> {
    this.init.check("start");
    if (this.restore) {
      await this.restoreInit(this.restore);
    } else {
      try {
        await withDeadline(this.runtime.start(this.id), RUNTIME_TIMEOUTS.start, "runtime start");
      } catch (e) {
        throw runtimeError(e, "OCI runtime start failed");
      }
    }
    if (this.init.state === "created") this.init.transition("start");
  }

  /** `runtime restore --detach -no-subreaper` from the checkpoint given at Create. */
  private async restoreInit(plan: RestorePlan): Promise<void> {
    const io = this.init.io!;
    const pidFile = initPidFile(this.bundle);
    try {
      await withDeadline(
        this.runtime.restore(this.id, {
          bundle: this.bundle,
          imagePath: plan.imagePath,
          parentPath: plan.parentPath,
          workPath: plan.workPath,
          noPivot: plan.noPivot,
          pidFile,
          detach: true,
          noSubreaper: true,
          ...io.runtimeOptions,
        }),
        RUNTIME_TIMEOUTS.checkpoint,
        "runtime restore",
      );
    } catch (e) {
      const log = join(plan.workPath, "restore.log");
      const msg = await withCriuCause(String((e as Error).message).split("\n")[0]!, log);
      throw new ContainerdError(kindOf(e), `OCI runtime restore failed: ${msg} path= ${log}`, {
        cause: e,
      });
    }
    await io.established();
    this.init.pid = readPidFile(pidFile);
    this.restore = undefined;
  }

  /** Registers an exec'd process (nothing runs until Start). */
  addExec(execId: string, stdio: StdioPaths, spec: Record<string, unknown>): ShimProcess {
    validateIdentifier(execId, "exec id");
    if (this.execs.has(execId) || this.reserved.has(execId)) throw errAlreadyExists(`id ${execId}`);
    this.init.check("exec");
    if (this.restore) throw errFailedPrecondition("cannot exec in a created state");
    const p = new ShimProcess(execId, execId, stdio);
    p.spec = { ...spec, terminal: stdio.terminal };
    this.execs.set(execId, p);
    return p;
  }

  /** `runtime exec --detach`; returns once the pid is known. */
  async startExec(p: ShimProcess): Promise<void> {
    p.check("start");
    this.init.check("exec");
    const io = await ProcessIO.prepare(this.sys, p.stdio, p.execId, this.namespace);
    // CloseIO may arrive while the runtime runs (the client sees EOF once the FIFO has a reader)
    p.io = io;
    const pidFile = execPidFile(this.bundle, p.execId);
    try {
      try {
        await withDeadline(
          this.runtime.exec(this.id, p.spec ?? {}, { pidFile, detach: true, ...io.runtimeOptions }),
          RUNTIME_TIMEOUTS.exec,
          "runtime exec",
        );
      } catch (e) {
        throw runtimeError(e, "OCI runtime exec failed");
      }
      await io.established();
      if (p.stdinClosed) io.closeStdin();
      p.pid = readPidFile(pidFile);
    } catch (e) {
      io.close();
      p.io = undefined;
      throw e;
    }
    if (p.state === "created") p.transition("start");
  }

  async kill(p: ShimProcess, signal: number, all: boolean): Promise<void> {
    p.check("kill");
    if (p.isInit) {
      try {
        await withDeadline(
          this.runtime.kill(this.id, signal, { all }),
          RUNTIME_TIMEOUTS.quick,
          "runtime kill",
        );
      } catch (e) {
        throw killError(e);
      }
      return;
    }
    if (p.pid === 0) throw errFailedPrecondition("process not created");
    if (p.hasExited) throw errNotFound("process already finished");
    try {
      this.sys.kill(p.pid, signal);
    } catch (e) {
      throw killError(e);
    }
  }

  /** Delete of the init: `runtime delete`, stdio closed, rootfs unmounted. */
  async deleteInit(): Promise<void> {
    const p = this.init;
    p.check("delete");
    await p.io?.drain(2000);
    let err: unknown;
    try {
      await withDeadline(this.runtime.delete(this.id), RUNTIME_TIMEOUTS.delete, "runtime delete");
    } catch (e) {
      // the runtime may have removed it already (a checkpoint does); we still hold the rest
      if (!isNotFound(e) && !/does not exist/.test(String((e as Error).message))) {
        err = runtimeError(e, "failed to delete task");
      }
    }
    p.io?.close();
    if (this.mountedRootfs) {
      try {
        unmountAll(this.sys, this.mountedRootfs);
      } catch (e) {
        err ??= e;
      }
    }
    if (err) throw err;
    p.transition("delete");
  }

  async deleteExec(p: ShimProcess): Promise<void> {
    p.check("delete");
    await p.io?.drain(2000);
    p.io?.close();
    rmSync(execPidFile(this.bundle, p.execId), { force: true });
    p.transition("delete");
    this.execs.delete(p.execId);
  }

  async pause(): Promise<void> {
    const p = this.init;
    p.check("pause");
    p.pausing = true;
    try {
      await withDeadline(this.runtime.pause(this.id), RUNTIME_TIMEOUTS.quick, "runtime pause");
    } catch (e) {
      throw runtimeError(e, "OCI runtime pause failed");
    } finally {
      p.pausing = false;
    }
    if (p.state === "running") p.transition("pause");
  }

  async resume(): Promise<void> {
    const p = this.init;
    p.check("resume");
    try {
      await withDeadline(this.runtime.resume(this.id), RUNTIME_TIMEOUTS.quick, "runtime resume");
    } catch (e) {
      throw runtimeError(e, "OCI runtime resume failed");
    }
    if (p.state === "paused") p.transition("resume");
  }

  async update(resources: object): Promise<void> {
    this.init.check("update");
    try {
      await withDeadline(
        this.runtime.update(this.id, resources),
        RUNTIME_TIMEOUTS.quick,
        "runtime update",
      );
    } catch (e) {
      throw runtimeError(e, "OCI runtime update failed");
    }
  }

  async pids(): Promise<number[]> {
    try {
      return await withDeadline(this.runtime.ps(this.id), RUNTIME_TIMEOUTS.quick, "runtime ps");
    } catch (e) {
      throw runtimeError(e, "failed to list processes");
    }
  }

  /**
   * `runtime checkpoint` (CRIU). On failure the first line of CRIU's complaint is reported with
   * where its dump.log was kept (`<bundle>/criu-dump.log`), as the runc shim does.
   */
  async checkpoint(o: CheckpointRequest): Promise<void> {
    this.init.check("checkpoint");
    const work = o.workPath || join(this.bundle, "work", "criu-work");
    // a failed checkpoint leaves no half image behind where there was none
    const imageWasThere = existsSync(o.imagePath);
    try {
      await withDeadline(
        this.runtime.checkpoint(this.id, { ...o, workPath: work }),
        RUNTIME_TIMEOUTS.checkpoint,
        "runtime checkpoint",
      );
    } catch (e) {
      if (!imageWasThere) rmSync(o.imagePath, { recursive: true, force: true });
      const dumpLog = join(this.bundle, "criu-dump.log");
      try {
        copyFileSync(join(work, "dump.log"), dumpLog);
      } catch {
        // CRIU did not get far enough to write a log
      }
      const first = await withCriuCause(String((e as Error).message).split("\n")[0]!, dumpLog);
      throw new ContainerdError(kindOf(e), `${first} path= ${dumpLog}`, { cause: e });
    } finally {
      if (!o.workPath) rmSync(work, { recursive: true, force: true });
    }
  }
}

/**
 * `message` with the first error CRIU logged (and its version) when the message lacks it: the
 * runc shim only says `criu failed: type DUMP errno 0`, which does not tell a CRIU too old for
 * the kernel from a container CRIU cannot dump.
 */
async function withCriuCause(message: string, log: string): Promise<string> {
  const { criuLogSummary } = await import("@containerd-ts/runc/container/criu.js");
  const summary = criuLogSummary(log);
  if (!summary || message.includes(summary.replace(/^criu [^:]*: /, ""))) return message;
  return `${message}: ${summary}`;
}

interface SpecView {
  linux?: { cgroupsPath?: string; namespaces?: Array<{ type?: string; path?: string }> };
}

function readSpec(bundle: string): SpecView | undefined {
  try {
    return JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as SpecView;
  } catch {
    return undefined;
  }
}

/** True unless the spec gives the container its own pid namespace (runc shim's rule). */
export function killAllOnExit(spec: SpecView | undefined): boolean {
  if (!spec) return true;
  return !(spec.linux?.namespaces ?? []).some((n) => n.type === "pid" && !n.path);
}
