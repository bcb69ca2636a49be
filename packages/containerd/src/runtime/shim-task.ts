import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import {
  dialTtrpc,
  createTtrpcClient,
  type TtrpcConnection,
  type TtrpcClient,
} from "@containerd-ts/ttrpc";
import {
  Task,
  type CreateTaskRequestSchema,
  type ExecProcessRequestSchema,
  type StateResponse,
  type DeleteResponse,
  type WaitResponse,
  type PidsResponse,
} from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import type { Bundle } from "./bundle.js";
import { rebasingShimErrors } from "./shim-errors.js";

/**
 * Deadlines of calls to a shim, in ms. A wedged shim must never hang the daemon: every
 * call but Wait has one (Wait lasts as long as the process; its caller's signal ends it).
 */
export const SHIM_DEADLINES: Readonly<ShimDeadlines> = {
  connect: 5_000,
  state: 2_000,
  create: 60_000,
  start: 60_000,
  delete: 30_000,
  exec: 30_000,
  kill: 10_000,
  control: 10_000,
  stats: 10_000,
  shutdown: 3_000,
  checkpoint: 300_000,
};

export interface ShimDeadlines {
  connect: number;
  state: number;
  create: number;
  start: number;
  delete: number;
  exec: number;
  kill: number;
  control: number;
  stats: number;
  shutdown: number;
  checkpoint: number;
}

/** The ttrpc metadata key under which containerd sends the namespace to shims. */
export const TTRPC_NAMESPACE_KEY = "containerd-namespace-ttrpc";

/** One connected shim serving one task (its init process and its execs). */
export class ShimTask {
  private readonly client: TtrpcClient<typeof Task>;

  private constructor(
    readonly bundle: Bundle,
    /** absolute path of the shim binary, for the `delete` action */
    readonly binary: string,
    private readonly conn: TtrpcConnection,
    private readonly deadlines: Readonly<ShimDeadlines>,
  ) {
    this.client = rebasingShimErrors(
      createTtrpcClient(Task, conn, { metadata: { [TTRPC_NAMESPACE_KEY]: bundle.namespace } }),
    );
  }

  static async connect(
    bundle: Bundle,
    binary: string,
    socketPath: string,
    timeoutMs: number = SHIM_DEADLINES.connect,
    deadlines: Partial<ShimDeadlines> = {},
  ): Promise<ShimTask> {
    const conn = await dialTtrpc(socketPath, { timeoutMs });
    return new ShimTask(bundle, binary, conn, { ...SHIM_DEADLINES, ...deadlines });
  }

  get id(): string {
    return this.bundle.id;
  }
  get namespace(): string {
    return this.bundle.namespace;
  }
  /** settles when the connection to the shim is gone (shim exited or closed it) */
  get closed(): Promise<void> {
    return this.conn.closed;
  }
  close(): void {
    this.conn.close();
  }

  async create(
    req: Omit<MessageInitShape<typeof CreateTaskRequestSchema>, "id" | "bundle" | "$typeName">,
  ): Promise<number> {
    const r = await this.client.create(
      { ...req, id: this.id, bundle: this.bundle.path },
      { timeoutMs: this.deadlines.create },
    );
    return r.pid;
  }

  async connectTask(
    timeoutMs: number = this.deadlines.connect,
  ): Promise<{ shimPid: number; taskPid: number }> {
    const r = await this.client.connect({ id: this.id }, { timeoutMs });
    return { shimPid: r.shimPid, taskPid: r.taskPid };
  }

  async start(execId = ""): Promise<number> {
    const r = await this.client.start({ id: this.id, execId }, { timeoutMs: this.deadlines.start });
    return r.pid;
  }

  state(execId = "", timeoutMs: number = this.deadlines.state): Promise<StateResponse> {
    return this.client.state({ id: this.id, execId }, { timeoutMs });
  }

  delete(execId = ""): Promise<DeleteResponse> {
    return this.client.delete({ id: this.id, execId }, { timeoutMs: this.deadlines.delete });
  }

  async kill(execId: string, signal: number, all: boolean): Promise<void> {
    await this.client.kill(
      { id: this.id, execId, signal, all },
      { timeoutMs: this.deadlines.kill },
    );
  }

  async exec(
    req: Omit<MessageInitShape<typeof ExecProcessRequestSchema>, "id" | "$typeName">,
  ): Promise<void> {
    await this.client.exec({ ...req, id: this.id }, { timeoutMs: this.deadlines.exec });
  }

  async resizePty(execId: string, width: number, height: number): Promise<void> {
    await this.client.resizePty(
      { id: this.id, execId, width, height },
      { timeoutMs: this.deadlines.control },
    );
  }

  async closeIO(execId: string): Promise<void> {
    await this.client.closeIO(
      { id: this.id, execId, stdin: true },
      { timeoutMs: this.deadlines.control },
    );
  }

  pids(): Promise<PidsResponse> {
    return this.client.pids({ id: this.id }, { timeoutMs: this.deadlines.control });
  }

  async pause(): Promise<void> {
    await this.client.pause({ id: this.id }, { timeoutMs: this.deadlines.control });
  }

  async resume(): Promise<void> {
    await this.client.resume({ id: this.id }, { timeoutMs: this.deadlines.control });
  }

  async checkpoint(path: string, options: Any | undefined): Promise<void> {
    await this.client.checkpoint(
      { id: this.id, path, options },
      { timeoutMs: this.deadlines.checkpoint },
    );
  }

  async update(resources: Any | undefined, annotations: Record<string, string>): Promise<void> {
    await this.client.update(
      { id: this.id, resources, annotations },
      { timeoutMs: this.deadlines.control },
    );
  }

  async stats(): Promise<Any | undefined> {
    const r = await this.client.stats({ id: this.id }, { timeoutMs: this.deadlines.stats });
    return r.stats;
  }

  wait(execId: string, signal?: AbortSignal): Promise<WaitResponse> {
    return this.client.wait({ id: this.id, execId }, { signal });
  }

  async shutdown(timeoutMs: number = this.deadlines.shutdown): Promise<void> {
    await this.client.shutdown({ id: this.id }, { timeoutMs });
  }
}
