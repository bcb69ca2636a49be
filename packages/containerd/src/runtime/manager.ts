import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { timestampNow, type Any, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ContainerdError,
  errAlreadyExists,
  errNotFound,
  isNotFound,
  kindOf,
  ErrorKind,
} from "@containerd-ts/errdefs";
import type { MountSchema } from "@containerd-ts/gen/containerd/types/mount_pb.js";
import {
  createBundle,
  deleteBundle,
  type Bundle,
  type BundleRoots,
  bundleRoots,
} from "./bundle.js";
import { ShimResolver, type ShimLookup } from "./binary.js";
import { orZeroTime, publishDeadShimEvents, type RuntimeEventSink } from "./events.js";
import {
  shimDeleteAction,
  shimStart,
  socketPathOf,
  type ShimCommandConfig,
} from "./shim-command.js";
import { fastStartOwnShim } from "./fast-start.js";
import { ShimLog, stderrSink, type ShimLogSink } from "./shim-log.js";
import { ShimTask, type ShimDeadlines } from "./shim-task.js";
import { killShimsInBundle } from "./stray-shim.js";

export interface RuntimeLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const silentLogger: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface RuntimeManagerOptions {
  /** daemon root (persistent) and state (runtime) dirs; bundles live below `<state>/io.containerd.runtime.v2.task` */
  readonly root: string;
  readonly state: string;
  /** the daemon's gRPC socket path, given to shims as -address */
  readonly address: string;
  /** the daemon's ttrpc socket path (default `<address>.ttrpc`) */
  readonly ttrpcAddress?: string;
  /** -publish-binary for shims (default: the daemon's entry script) */
  readonly publishBinary?: string;
  readonly events: RuntimeEventSink;
  readonly log?: RuntimeLogger;
  readonly shimLog?: ShimLogSink;
  readonly debugShims?: boolean;
  readonly lookup?: ShimLookup;
  /** deadline of a shim `start` / `delete` action (default 30 s / 10 s) */
  readonly startTimeoutMs?: number;
  readonly cleanupTimeoutMs?: number;
  /** deadlines of the ttrpc calls to shims (containerd's io.containerd.timeout.* settings) */
  readonly shimDeadlines?: Partial<ShimDeadlines>;
}

export type Mount = MessageInitShape<typeof MountSchema>;

export interface CreateTaskOptions {
  /** runtime name (`io.containerd.runc.v2`) or absolute shim path */
  readonly runtime: string;
  readonly spec: Uint8Array;
  readonly runtimeOptions?: Any;
  readonly taskOptions?: Any;
  readonly rootfs?: Mount[];
  readonly stdin?: string;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly terminal?: boolean;
  readonly checkpoint?: string;
}

export interface TaskExitInfo {
  pid: number;
  exitStatus: number;
  exitedAt: Timestamp;
}

interface Entry {
  task: ShimTask;
  log: ShimLog | undefined;
  /** set when the daemon itself ends the connection: no dead-shim cleanup then */
  released: boolean;
  /** the dead-shim cleanup, once started */
  cleanup?: Promise<TaskExitInfo>;
  /** a delete in progress */
  deleting?: Promise<TaskExitInfo>;
}

const key = (ns: string, id: string) => `${ns}/${id}`;

/**
 * The shim v2 runtime: one shim per task, started through the shim binary's `start` action,
 * driven over ttrpc, cleaned up when deleted or found dead. Owns the bundle directories.
 */
export class RuntimeManager {
  readonly roots: BundleRoots;
  private readonly tasks = new Map<string, Entry>();
  private readonly reserved = new Set<string>();
  private readonly resolver: ShimResolver;
  private readonly log: RuntimeLogger;
  private closing = false;

  constructor(private readonly opts: RuntimeManagerOptions) {
    this.roots = bundleRoots(opts.root, opts.state);
    this.resolver = new ShimResolver(opts.lookup);
    this.log = opts.log ?? silentLogger;
  }

  get shimDeadlines(): Partial<ShimDeadlines> {
    return this.opts.shimDeadlines ?? {};
  }

  get ttrpcAddress(): string {
    return this.opts.ttrpcAddress ?? this.opts.address + ".ttrpc";
  }

  resolveRuntime(runtime: string): string {
    return this.resolver.resolve(runtime);
  }

  commandConfig(bundle: Bundle, binary: string): ShimCommandConfig {
    return {
      binary,
      namespace: bundle.namespace,
      id: bundle.id,
      bundlePath: bundle.path,
      address: this.opts.address,
      ttrpcAddress: this.ttrpcAddress,
      publishBinary: this.opts.publishBinary ?? process.argv[1] ?? process.execPath,
      debug: this.opts.debugShims,
    };
  }

  get(ns: string, id: string): ShimTask | undefined {
    return this.tasks.get(key(ns, id))?.task;
  }

  /** A task tracked or being created (its directories must be left alone). */
  isKnown(ns: string, id: string): boolean {
    const k = key(ns, id);
    return this.tasks.has(k) || this.reserved.has(k);
  }

  /** The task or NotFound `task <id> not found` (containerd's message). */
  mustGet(ns: string, id: string): ShimTask {
    const t = this.get(ns, id);
    if (!t) throw errNotFound(`task ${id} not found`);
    return t;
  }

  list(ns: string): ShimTask[] {
    const out: ShimTask[] = [];
    for (const e of this.tasks.values()) if (e.task.namespace === ns) out.push(e.task);
    return out;
  }

  /**
   * Bundle → shim start → ttrpc Create → Connect. Anything that fails undoes everything before
   * it: no bundle, mount or shim is left behind.
   */
  async create(
    ns: string,
    id: string,
    o: CreateTaskOptions,
  ): Promise<{ task: ShimTask; pid: number }> {
    const k = key(ns, id);
    if (this.tasks.has(k) || this.reserved.has(k))
      throw errAlreadyExists(`task ${id}: already exists`);
    this.reserved.add(k);
    try {
      let binary: string;
      try {
        binary = this.resolver.resolve(o.runtime);
      } catch (err) {
        // containerd's resolution fails with plain os errors: code Unknown
        throw prefixed(
          "failed to start shim: failed to resolve runtime path: ",
          err,
          ErrorKind.Unknown,
        );
      }
      const bundle = await createBundle(this.roots, ns, id, o.spec).catch((err: unknown) => {
        throw prefixed("failed to start shim: ", err);
      });
      let log: ShimLog | undefined;
      let task: ShimTask | undefined;
      let address: string | undefined;
      try {
        log = await ShimLog.open(bundle.path, this.opts.shimLog ?? stderrSink);
        const cfg = this.commandConfig(bundle, binary);
        const options = o.taskOptions ?? o.runtimeOptions;
        try {
          address =
            (await fastStartOwnShim(cfg, o.spec, options)) ??
            (await shimStart(cfg, options, this.opts.startTimeoutMs ?? 30_000));
          task = await ShimTask.connect(
            bundle,
            binary,
            socketPathOf(address),
            this.opts.shimDeadlines?.connect,
            this.opts.shimDeadlines,
          );
        } catch (err) {
          throw prefixed("failed to start shim: start failed: ", err);
        }
        await writeFile(join(bundle.path, "shim-binary-path"), binary, { mode: 0o600 });
        const pid = await task
          .create({
            rootfs: o.rootfs ?? [],
            stdin: o.stdin ?? "",
            stdout: o.stdout ?? "",
            stderr: o.stderr ?? "",
            terminal: o.terminal ?? false,
            checkpoint: o.checkpoint ?? "",
            options: o.taskOptions ?? o.runtimeOptions,
          })
          .catch((err: unknown) => {
            throw prefixed("failed to create shim task: ", err);
          });
        await task.connectTask();
        this.register(task, log);
        return { task, pid };
      } catch (err) {
        await this.undoCreate(bundle, binary, task, log, address);
        throw err;
      }
    } finally {
      this.reserved.delete(k);
    }
  }

  private async undoCreate(
    bundle: Bundle,
    binary: string,
    task: ShimTask | undefined,
    log: ShimLog | undefined,
    /** what the shim's start printed, when it got that far */
    address: string | undefined,
  ): Promise<void> {
    if (task) {
      await task.delete().catch(() => {});
      // a shim that neither exits nor answers is wedged: nothing would ever stop it
      const wedged = await task.shutdown().then(
        () => false,
        (err: unknown) => kindOf(err) === ErrorKind.DeadlineExceeded,
      );
      task.close();
      if (wedged) {
        const killed = await killShimsInBundle(bundle.path, bundle.id);
        this.log.warn("killed a wedged shim after a failed create", {
          id: bundle.id,
          pids: killed,
        });
        // a killed shim cannot remove its socket
        const path = socketPathOf(address ?? "");
        if (killed.length > 0 && path.startsWith("/")) await rm(path, { force: true });
      }
    }
    if (address !== undefined) {
      // A shim may fail Create after the runtime created the container (stdio that cannot
      // be opened, say) and not remove it: runc's init would outlive the shim. The binary's
      // `delete` action (runtime delete --force, unmount) removes whatever is left, as
      // containerd's dead-shim cleanup does after a failed create.
      await shimDeleteAction(
        this.commandConfig(bundle, binary),
        this.opts.cleanupTimeoutMs ?? 10_000,
      ).catch(() => {});
    }
    log?.close();
    await deleteBundle(bundle).catch((err: unknown) =>
      this.log.error("remove bundle after failed create", { id: bundle.id, error: String(err) }),
    );
  }

  /** Tracks a connected shim; when its connection drops unasked, cleans up after it. */
  register(task: ShimTask, log: ShimLog | undefined): void {
    const entry: Entry = { task, log, released: false };
    this.tasks.set(key(task.namespace, task.id), entry);
    void task.closed.then(() => this.onShimGone(entry));
  }

  private async onShimGone(entry: Entry): Promise<void> {
    entry.log?.close();
    if (entry.released || this.closing) return;
    const { task } = entry;
    const k = key(task.namespace, task.id);
    if (this.tasks.get(k) !== entry) return;
    this.log.warn("shim disconnected, cleaning up", { id: task.id, namespace: task.namespace });
    await this.cleanupEntry(entry);
  }

  /** The dead-shim cleanup of a tracked task, run once however many callers ask for it. */
  private cleanupEntry(entry: Entry): Promise<TaskExitInfo> {
    entry.cleanup ??= (async () => {
      const exit = await this.cleanupDeadShim(entry.task.bundle, entry.task.binary);
      const k = key(entry.task.namespace, entry.task.id);
      if (this.tasks.get(k) === entry) this.tasks.delete(k);
      return exit;
    })();
    return entry.cleanup;
  }

  /**
   * containerd's cleanupAfterDeadShim: the shim binary's `delete` action (runtime delete
   * --force, unmount), bundle removal, then TaskExit + TaskDelete so waiters learn the end.
   */
  async cleanupDeadShim(bundle: Bundle, binary: string | undefined): Promise<TaskExitInfo> {
    let exit: TaskExitInfo | undefined;
    if (binary !== undefined) {
      try {
        const r = await shimDeleteAction(
          this.commandConfig(bundle, binary),
          this.opts.cleanupTimeoutMs ?? 10_000,
        );
        exit = { pid: r.pid, exitStatus: r.exitStatus, exitedAt: orZeroTime(r.exitedAt) };
      } catch (err) {
        this.log.warn("shim delete action failed", { id: bundle.id, error: String(err) });
      }
    }
    await deleteBundle(bundle).catch((err: unknown) =>
      this.log.error("remove dead shim's bundle", { id: bundle.id, error: String(err) }),
    );
    exit ??= { pid: 0, exitStatus: 255, exitedAt: timestampNow() };
    await publishDeadShimEvents(this.opts.events, bundle.namespace, {
      containerId: bundle.id,
      ...exit,
    }).catch((err: unknown) =>
      this.log.error("publish dead shim events", { id: bundle.id, error: String(err) }),
    );
    return exit;
  }

  /**
   * Task delete, in containerd's order: shim Delete, Shutdown (3 s), close, bundle removal.
   * A shim that is already gone is cleaned up through its binary's `delete` action (once,
   * shared with the disconnect handler). Concurrent deletes of one task share one outcome.
   */
  delete(ns: string, id: string): Promise<TaskExitInfo> {
    const entry = this.tasks.get(key(ns, id));
    if (!entry) return Promise.reject(errNotFound(`task ${id} not found`));
    if (entry.cleanup) return entry.cleanup;
    entry.deleting ??= this.deleteEntry(entry).finally(() => {
      entry.deleting = undefined;
    });
    return entry.deleting;
  }

  private async deleteEntry(entry: Entry): Promise<TaskExitInfo> {
    const { task } = entry;
    const k = key(task.namespace, task.id);
    let exit: TaskExitInfo | undefined;
    try {
      const r = await task.delete();
      exit = { pid: r.pid, exitStatus: r.exitStatus, exitedAt: orZeroTime(r.exitedAt) };
    } catch (err) {
      if (kindOf(err) === ErrorKind.Unavailable) return this.cleanupEntry(entry);
      // the shim does not know the task: still release the shim and the bundle
      if (!isNotFound(err)) throw err;
    }
    entry.released = true;
    if (this.tasks.get(k) === entry) this.tasks.delete(k);
    await task.shutdown().catch(() => {});
    task.close();
    entry.log?.close();
    await deleteBundle(task.bundle).catch((err: unknown) =>
      this.log.error("remove bundle", { id: task.id, error: String(err) }),
    );
    if (!exit) throw errNotFound(`task ${task.id} not found`);
    return exit;
  }

  /** Daemon shutdown: drop connections, leave shims and their containers running. */
  close(): void {
    this.closing = true;
    for (const e of this.tasks.values()) {
      e.released = true;
      e.task.close();
      e.log?.close();
    }
    this.tasks.clear();
  }
}

/** containerd's `fmt.Errorf("<context>: %w", err)`: the same kind (unless told), prefixed text. */
function prefixed(prefix: string, err: unknown, kind: ErrorKind = kindOf(err)): ContainerdError {
  const message = err instanceof Error ? err.message : String(err);
  return new ContainerdError(kind, `${prefix}${message}`, { cause: err });
}
