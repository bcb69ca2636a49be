import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "@containerd-ts/runc/cli/log.js";
import type { CgroupStats } from "@containerd-ts/runc/cgroups/types.js";
import type { RuncState } from "@containerd-ts/runc/client/types.js";
import type { HookName, Hooks } from "@containerd-ts/runc/spec/types.js";
import type { OciRuntime, RuntimeConfig } from "./runtime.js";

/**
 * runc-ts in the shim's own process (design: "runc-ts in process where it is safe"). When the
 * configured runtime binary is this install's runc-ts, the commands that need no new process
 * (start, state, kill, delete, resume, ps, update, stats) call runc-ts's library directly
 * instead of paying a Node start each. Everything else goes to the CLI client: create, exec,
 * checkpoint and restore (they need a new init process), and the cases where the library would
 * wait synchronously and so stall the shim's event loop — pause (freezer wait), kill --all
 * SIGKILL (freezes first), a forced delete of a live container (may freeze), and any container
 * with hooks on the operation (hooks run through spawnSync).
 *
 * Outcomes match the CLI's: the same state files, the error line appended to the runtime's
 * --log file, and failures as the same RuncError (message = runc-ts's message, kind from
 * the client's kindOfFailure, exit code 1).
 */

type Ops = typeof import("@containerd-ts/runc/container/ops.js");

interface Library {
  ops: Ops;
  ps: typeof import("@containerd-ts/runc/container/ps.js");
  stats: typeof import("@containerd-ts/runc/container/runc-stats.js");
  json: typeof import("@containerd-ts/runc/container/events.js");
  state: typeof import("@containerd-ts/runc/container/state.js");
  ids: typeof import("@containerd-ts/runc/container/errors.js");
  errors: typeof import("@containerd-ts/runc/client/errors.js");
  log: typeof import("@containerd-ts/runc/cli/log.js");
}

let library: Promise<Library> | undefined;

/** runc-ts's modules, loaded once per shim (≈ 20 ms, against ≈ 60-130 ms per runc-ts start). */
function loadLibrary(): Promise<Library> {
  library ??= (async () => {
    const [ops, ps, stats, json, state, ids, errors, log] = await Promise.all([
      import("@containerd-ts/runc/container/ops.js"),
      import("@containerd-ts/runc/container/ps.js"),
      import("@containerd-ts/runc/container/runc-stats.js"),
      import("@containerd-ts/runc/container/events.js"),
      import("@containerd-ts/runc/container/state.js"),
      import("@containerd-ts/runc/container/errors.js"),
      import("@containerd-ts/runc/client/errors.js"),
      import("@containerd-ts/runc/cli/log.js"),
      // the cgroup manager runc-ts loads lazily: delete, kill --all, ps and stats need it
      import("@containerd-ts/runc/cgroups/index.js"),
    ]);
    return { ops, ps, stats, json, state, ids, errors, log };
  })();
  return library;
}

let ownMains: string[] | undefined;

/**
 * Real paths of runc-ts's CLI entries in this install: the bundle its bin points to
 * (dist/bundle/runc-ts.cjs) and the unbundled dist/cli/main.js.
 */
function ownRuncMains(): string[] {
  ownMains ??= ["bundle/runc-ts.cjs", "cli/main.js"].flatMap((file) => {
    try {
      return [realpathSync(fileURLToPath(import.meta.resolve(`@containerd-ts/runc/${file}`)))];
    } catch {
      return [];
    }
  });
  return ownMains;
}

/** What spawn would run for `binary`: itself when it has a slash, else the first hit on PATH. */
function lookPath(binary: string, path: string): string | undefined {
  if (binary.includes("/")) return binary;
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether the runtime binary is this install's runc-ts (a link to it counts, a copy does not). */
export function isOwnRuncTs(binary: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const mains = ownRuncMains();
  const found = lookPath(binary, env.PATH ?? "");
  if (mains.length === 0 || found === undefined) return false;
  try {
    return mains.includes(realpathSync(found));
  } catch {
    return false;
  }
}

/** `0` keeps every command on the CLI (to compare, or to rule the in-process path out). */
export const INPROCESS_ENV = "CONTAINERD_TS_RUNC_INPROCESS";

/**
 * The in-process runtime when `config.binary` is this install's runc-ts and nothing in the
 * config needs the CLI (runc-ts refuses --systemd-cgroup on every command), else `cli` itself.
 */
export function inProcessWhenOwn(
  config: RuntimeConfig,
  cli: OciRuntime,
  env: NodeJS.ProcessEnv = process.env,
): OciRuntime {
  if (env[INPROCESS_ENV] === "0") return cli;
  if (config.systemdCgroup || !isOwnRuncTs(config.binary, env)) return cli;
  return new InProcessRuntime(config, cli);
}

const SIGKILL = 9;

export class InProcessRuntime implements OciRuntime {
  private logger: Logger | undefined;

  constructor(
    readonly config: RuntimeConfig,
    /** the CLI client of the same binary, root and log */
    readonly cli: OciRuntime,
  ) {}

  /** Runs runc-ts's command in process; a failure becomes what the CLI client would throw. */
  private async run<T>(command: string, op: (lib: Library) => Promise<T>): Promise<T> {
    const lib = await loadLibrary();
    try {
      return await op(lib);
    } catch (e) {
      throw this.failure(lib, command, e);
    }
  }

  private log(lib: Library): Logger | undefined {
    // no --log: the CLI would write to its stderr, which in process is the shim's
    if (!this.config.log) return undefined;
    return (this.logger ??= new lib.log.Logger(this.config.log, this.config.logFormat, false));
  }

  /** The CLI logs the error, exits 1, and the client reads the message back from the log. */
  private failure(lib: Library, command: string, e: unknown): Error {
    const raw = e instanceof Error ? e.message : String(e);
    this.log(lib)?.error(raw);
    const output = raw.trim();
    const message =
      output || `${this.config.binary} ${command} did not terminate successfully: exit status 1`;
    return new lib.errors.RuncError(
      lib.errors.kindOfFailure(command, message),
      message,
      command,
      1,
      output,
      { cause: e },
    );
  }

  /** Whether the container's state names hooks of these kinds (they would block us: CLI). */
  private async hasHooks(id: string, names: HookName[]): Promise<boolean> {
    const { state, ids } = await loadLibrary();
    let hooks: Hooks | undefined;
    try {
      hooks = state.loadState(this.config.root, ids.checkId(id))?.config.hooks;
    } catch {
      return false; // the command itself reports an unreadable state
    }
    return names.some((n) => (hooks?.[n]?.length ?? 0) > 0);
  }

  /** The container's live status, or undefined when it cannot be loaded (the command fails). */
  private async status(id: string): Promise<string | undefined> {
    const { ops } = await loadLibrary();
    try {
      return (await ops.loadContainer(this.config.root, id)).status();
    } catch {
      return undefined;
    }
  }

  async create(id: string, o: Parameters<OciRuntime["create"]>[1]): Promise<void> {
    try {
      await this.cli.create(id, o);
    } finally {
      // load the library while the daemon answers and the client asks for Start (not before
      // the create: its spawn is on the critical path)
      void loadLibrary().catch(() => undefined);
    }
  }

  async start(id: string): Promise<void> {
    // startContainer hooks run in the init (start polls the exec fifo without blocking);
    // poststart hooks would run here through spawnSync
    if (await this.hasHooks(id, ["poststart"])) return this.cli.start(id);
    await this.run("start", ({ ops }) => ops.startContainer(this.config.root, id));
  }

  /** `state ID` as the CLI client parses it. */
  async state(id: string): Promise<RuncState> {
    const text = await this.run("state", ({ ops }) => ops.containerStateJson(this.config.root, id));
    return JSON.parse(text) as RuncState;
  }

  async kill(id: string, signal: number, o: { all?: boolean } = {}): Promise<void> {
    if (o.all && signal === SIGKILL) return this.cli.kill(id, signal, o);
    await this.run("kill", ({ ops }) =>
      ops.killContainer(this.config.root, id, String(signal), o.all === true),
    );
  }

  async delete(id: string, o: { force?: boolean } = {}): Promise<void> {
    if (await this.hasHooks(id, ["poststop"])) return this.cli.delete(id, o);
    if (o.force) {
      const status = await this.status(id);
      if (status === "running" || status === "paused") return this.cli.delete(id, o);
    }
    await this.run("delete", (lib) =>
      lib.ops.deleteContainer(this.config.root, id, o.force === true, (m) =>
        this.log(lib)?.warn(m),
      ),
    );
  }

  exec(id: string, process: object, o: Parameters<OciRuntime["exec"]>[2]): Promise<void> {
    return this.cli.exec(id, process, o);
  }

  async ps(id: string): Promise<number[]> {
    const text = await this.run("ps", ({ ps }) => ps.psContainer(this.config.root, id, "json", []));
    return (JSON.parse(text) as number[] | null) ?? [];
  }

  /** The freezer wait is synchronous in runc-ts: a stuck task would stall the shim. */
  pause(id: string): Promise<void> {
    return this.cli.pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.run("resume", ({ ops }) => ops.resumeContainer(this.config.root, id));
  }

  async update(id: string, resources: object): Promise<void> {
    // the CLI gets the resources as JSON text: the same copy, the same failure on bigints
    const parsed = JSON.parse(JSON.stringify(resources)) as Record<string, unknown>;
    await this.run("update", ({ ops }) => ops.updateContainer(this.config.root, id, parsed));
  }

  /** `events --stats`'s data: runc's Stats, through JSON like the CLI's output. */
  async stats(id: string): Promise<object> {
    const text = await this.run("events", async ({ ops, stats, json }) => {
      const c = await ops.loadContainer(this.config.root, id);
      const cgroups = await c.cgroups();
      const data = stats.toRuncStats(cgroups.stats() as CgroupStats);
      return json.jsonBigints({ type: "stats", id: c.state.id, data });
    });
    return (JSON.parse(text) as { data?: object }).data ?? {};
  }

  checkpoint(id: string, o: Parameters<OciRuntime["checkpoint"]>[1]): Promise<void> {
    return this.cli.checkpoint(id, o);
  }

  restore(id: string, o: Parameters<OciRuntime["restore"]>[1]): Promise<number> {
    return this.cli.restore(id, o);
  }
}
