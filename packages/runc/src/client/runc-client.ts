import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errInternal } from "@containerd-ts/errdefs";
import {
  checkpointArgs,
  createArgs,
  deleteArgs,
  execArgs,
  globalArgs,
  killArgs,
  restoreArgs,
} from "./args.js";
import { runRuntime, type RunOptions } from "./command.js";
import type {
  CheckpointOptions,
  CreateOptions,
  ExecOptions,
  RestoreOptions,
  RuncClientOptions,
  RuncState,
  RuncVersion,
} from "./types.js";

/**
 * Drives any runc-compatible runtime (runc-ts, runc, crun) through its command line exactly
 * as go-runc does for containerd-shim-runc-v2. Every failure is a RuncError (a ContainerdError).
 */
export class RuncClient {
  constructor(readonly opts: RuncClientOptions) {}

  private run(command: string, args: string[], o: RunOptions = {}) {
    return runRuntime(this.opts.binary, [...globalArgs(this.opts), ...args], command, {
      logFile: this.opts.log,
      spawn: this.opts.spawn,
      ...o,
    });
  }

  private async json<T>(command: string, args: string[]): Promise<T> {
    const { stdout } = await this.run(command, args);
    try {
      return JSON.parse(stdout) as T;
    } catch (err) {
      throw errInternal(
        `${this.opts.binary} ${command}: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`,
        err,
      );
    }
  }

  /**
   * `create` in the foreground (no --detach), waiting for the runtime to exit: the init
   * process is then waiting in the container and its pid is in pidFile. cwd = bundle.
   * Without io the container's stdio is /dev/null (containerd's null IO).
   */
  async create(id: string, o: CreateOptions): Promise<void> {
    await this.run("create", createArgs(id, o), {
      io: o.io ?? {},
      extraFds: o.extraFds,
      cwd: o.bundle,
    });
  }

  async start(id: string): Promise<void> {
    await this.run("start", ["start", id]);
  }

  state(id: string): Promise<RuncState> {
    return this.json<RuncState>("state", ["state", id]);
  }

  /** `list --format=json`; runc prints `null` when there is nothing. */
  async list(): Promise<RuncState[]> {
    return (await this.json<RuncState[] | null>("list", ["list", "--format=json"])) ?? [];
  }

  /** Numeric signal; "not running"/"no such process"/"does not exist" failures are NotFound. */
  async kill(id: string, signal: number, o: { all?: boolean } = {}): Promise<void> {
    await this.run("kill", killArgs(id, signal, o));
  }

  async delete(id: string, o: { force?: boolean } = {}): Promise<void> {
    await this.run("delete", deleteArgs(id, o));
  }

  /** The OCI process JSON goes through a temporary `--process` file, removed afterwards. */
  async exec(id: string, process: object, o: ExecOptions): Promise<void> {
    const dir = await mkdtemp(join(processFileDir(), "runc-process-"));
    const file = join(dir, "process.json");
    try {
      await writeFile(file, JSON.stringify(process), { mode: 0o600 });
      await this.run("exec", execArgs(id, file, o), { io: o.io ?? {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `ps --format json`: the pids inside the container. */
  async ps(id: string): Promise<number[]> {
    return (await this.json<number[] | null>("ps", ["ps", "--format", "json", id])) ?? [];
  }

  async pause(id: string): Promise<void> {
    await this.run("pause", ["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.run("resume", ["resume", id]);
  }

  /** OCI LinuxResources as JSON on stdin (`update --resources - ID`). */
  async update(id: string, resources: object): Promise<void> {
    await this.run("update", ["update", "--resources", "-", id], {
      input: JSON.stringify(resources) + "\n",
    });
  }

  /** One `events --stats ID` event; returns its `data` (runc's Stats), as go-runc's Stats(). */
  async stats(id: string): Promise<object> {
    const { stdout } = await this.run("events", ["events", "--stats", id]);
    const line = stdout.split("\n").find((l) => l.trim() !== "");
    try {
      const event = JSON.parse(line ?? "") as { type?: string; data?: object };
      return event.data ?? {};
    } catch (err) {
      throw errInternal(
        `${this.opts.binary} events --stats: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`,
        err,
      );
    }
  }

  async checkpoint(id: string, o: CheckpointOptions): Promise<void> {
    await this.run("checkpoint", checkpointArgs(id, o));
  }

  /** Returns the runtime's exit status (0 on success). cwd = bundle. */
  async restore(id: string, o: RestoreOptions): Promise<number> {
    await this.run("restore", restoreArgs(id, o), { io: o.io ?? {}, cwd: o.bundle });
    return 0;
  }

  /** `--version`, parsed like go-runc (runc-ts and crun print other first lines: fields stay empty). */
  async version(): Promise<RuncVersion> {
    const { stdout } = await runRuntime(this.opts.binary, ["--version"], "version", {
      spawn: this.opts.spawn,
    });
    const v: RuncVersion = { runc: "", commit: "", spec: "" };
    const lines = stdout.trim().split("\n");
    if (!lines[0]?.startsWith("runc version ")) return v;
    v.runc = lines[0].slice("runc version ".length);
    for (const l of lines.slice(1)) {
      if (l.startsWith("commit: ")) v.commit = l.slice("commit: ".length);
      else if (l.startsWith("spec: ")) v.spec = l.slice("spec: ".length);
    }
    return v;
  }
}

/** go-runc writes the process file under $XDG_RUNTIME_DIR, else the temp dir. */
function processFileDir(): string {
  return process.env.XDG_RUNTIME_DIR || tmpdir();
}
