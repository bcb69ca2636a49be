import { trace } from "../trace.js";
import { closeSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import { errInvalidArgument, errNotImplemented } from "@containerd-ts/errdefs/errors.js";
import { libc } from "@containerd-ts/sys/libc.js";
import { buildInitPlan } from "../init/plan.js";
import { validateSpec, type ContainerConfig } from "../spec/config.js";
import type { LinuxSeccomp } from "../spec/types.js";
import { loadCgroupManager, type Cgroups } from "./cgroup.js";
import { spawnInit } from "./child.js";
import { connectConsole, ownConsole } from "./console.js";
import { checkId, errExist } from "./errors.js";
import { runHooks, type HookState } from "./hooks.js";
import { enterNamespaces } from "./namespaces.js";
import {
  containerDir,
  EXEC_FIFO,
  nowNs,
  procStat,
  rfc3339Nano,
  saveState,
  writeAtomic,
  type ContainerState,
} from "./state.js";

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring?: boolean;
  preserveFds: number;
  /** run in the foreground: the terminal may then be handled without a console socket */
  detach: boolean;
}

export interface Created {
  state: ContainerState;
  child: ChildProcess;
  cgroups: Cgroups;
  /** the pty master of a foreground terminal without --console-socket */
  master?: number;
}

/** Compiles the profile once here so a bad one fails before anything exists. */
async function checkSeccomp(profile: LinuxSeccomp): Promise<void> {
  let mod: { compileSeccomp(p: LinuxSeccomp): Buffer; seccompFilterFlags(p: LinuxSeccomp): number };
  try {
    mod = (await import("../seccomp/index.js" as string)) as typeof mod;
  } catch {
    throw errNotImplemented("seccomp is not supported by this build of runc-ts");
  }
  mod.compileSeccomp(profile);
  mod.seccompFilterFlags(profile);
}

export function readBundleConfig(bundle: string, id: string) {
  const path = join(bundle, "config.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw errInvalidArgument(`JSON specification file config.json not found`);
    throw errInvalidArgument(`config.json: ${(e as Error).message}`);
  }
  return validateSpec(raw, id, bundle);
}

/**
 * `runc-ts create`: validate, plan, make the state dir and exec fifo, create the cgroup, enter
 * the namespaces on the main thread, spawn the init, run createRuntime hooks when it asks,
 * and record state.json + the pid file once it is ready (blocked on the exec fifo).
 */
/** Makes the container's state dir; an existing one means the id is taken (runc's error). */
export function claimContainerDir(root: string, id: string): string {
  const dir = containerDir(root, id);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw errExist();
    throw e;
  }
  return dir;
}

/** The cgroup manager for a container's config (create and restore put the init there). */
export function cgroupManagerFor(config: ContainerConfig, id: string): Promise<Cgroups> {
  return loadCgroupManager({
    cgroupsPath: config.cgroupsPath,
    containerId: id,
    resources: config.resources,
    specDevicePaths: config.devices.map((d) => d.path),
  });
}

/**
 * Writes state.json (and --pid-file) for a new container init, or returns undefined when the
 * init is already gone: what `create` and `restore` leave for every later command.
 */
export function recordInitState(
  o: { root: string; pidFile?: string },
  init: {
    id: string;
    pid: number;
    bundle: string;
    config: ContainerConfig;
    cgroups: Cgroups;
    cgroupPaths: Record<string, string>;
  },
): ContainerState | undefined {
  const stat = procStat(init.pid);
  if (!stat) return undefined;
  const state: ContainerState = {
    id: init.id,
    initPid: init.pid,
    initStartTime: stat.startTime,
    bundle: init.bundle,
    rootfs: init.config.rootfs,
    created: rfc3339Nano(nowNs()),
    config: init.config,
    cgroupPaths: init.cgroupPaths,
    cgroupVersion: init.cgroups.version,
    namespacePaths: {},
  };
  saveState(o.root, state);
  if (o.pidFile) writeAtomic(resolve(o.pidFile), String(init.pid));
  return state;
}

export async function createContainer(o: CreateOptions): Promise<Created> {
  const id = checkId(o.id);
  const bundle = resolve(o.bundle);
  trace("create: begin");
  const config = readBundleConfig(bundle, id);
  if (!existsSync(config.rootfs) || !statSync(config.rootfs).isDirectory())
    throw errInvalidArgument(`rootfs (${config.rootfs}) does not exist`);
  if (config.process.terminal && !o.consoleSocket && o.detach)
    throw errInvalidArgument(
      "cannot allocate tty if runc will detach without setting console socket",
    );
  if (!config.process.terminal && o.consoleSocket)
    throw errInvalidArgument("cannot use console socket if runc will not detach or allocate tty");
  if (config.seccomp) await checkSeccomp(config.seccomp);
  const dir = claimContainerDir(o.root, id);
  const sys = libc();
  let cgroups: Cgroups | undefined;
  let child: ChildProcess | undefined;
  let consoleFd: number | undefined;
  let own: ReturnType<typeof ownConsole> | undefined;
  try {
    const fifo = join(dir, EXEC_FIFO);
    sys.mkfifo(fifo, 0o622);
    if (o.consoleSocket) consoleFd = connectConsole(o.consoleSocket);
    else if (config.process.terminal) {
      own = ownConsole(dir);
      consoleFd = own.childFd;
    }
    const steps = buildInitPlan(config, {
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      execFifoPath: fifo,
    });
    // The init boots Node while we load the cgroup manager: it waits for its plan anyway.
    const restore = enterNamespaces(sys, config.namespaces);
    let init;
    try {
      init = spawnInit({ cwd: bundle, preserveFds: o.preserveFds, consoleFd });
    } finally {
      restore();
    }
    child = init.child;
    if (consoleFd !== undefined) {
      closeSync(consoleFd);
      consoleFd = undefined;
    }
    trace("create: init spawned");
    const pid = child.pid;
    if (pid === undefined) throw new Error("spawn init: no pid");
    cgroups = await cgroupManagerFor(config, id);
    cgroups.create();
    trace("create: cgroup created");
    const cgroupPaths = cgroups.paths();
    const hookState: HookState = {
      ociVersion: config.ociVersion,
      id,
      status: "creating",
      pid,
      bundle,
      annotations: config.annotations,
    };
    init.send({
      type: "plan",
      mode: "init",
      steps,
      extraFds: Array.from({ length: o.preserveFds }, (_, i) => 3 + i),
      cgroupProcsFiles: [...new Set(Object.values(cgroupPaths))].map((p) =>
        join(p, "cgroup.procs"),
      ),
      cgroupPaths,
      cgroupVersion: cgroups.version,
      hooks: {
        createContainer: config.hooks.createContainer,
        startContainer: config.hooks.startContainer,
      },
      hookState,
    });
    for (;;) {
      const m = await init.next();
      if (m === undefined) throw new Error("container init exited before it was ready");
      if (m.type === "error") throw new Error(m.message);
      if (m.type === "hooks") {
        try {
          runHooks("prestart", config.hooks.prestart, hookState);
          runHooks("createRuntime", config.hooks.createRuntime, hookState);
          init.send({ type: "hooks-done" });
        } catch (e) {
          init.send({ type: "error", message: (e as Error).message });
          throw e;
        }
      }
      if (m.type === "ready") {
        trace("create: init ready");
        break;
      }
    }
    init.close();
    const state = recordInitState(o, { id, pid, bundle, config, cgroups, cgroupPaths });
    if (!state) throw new Error("container init exited before it was ready");
    return { state, child, cgroups, master: own?.receive() };
  } catch (e) {
    if (consoleFd !== undefined) closeSync(consoleFd);
    own?.close();
    if (child?.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await new Promise<void>((r) =>
        child!.exitCode !== null || child!.signalCode !== null
          ? r()
          : child!.once("exit", () => r()),
      );
    }
    try {
      cgroups?.destroy();
    } catch {
      // best effort: the error that got us here matters more
    }
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
