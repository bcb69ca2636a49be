import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  unlinkSync,
  constants as fsc,
} from "node:fs";
import { join } from "node:path";
import { errFailedPrecondition, errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { O_CLOEXEC, O_NONBLOCK, SIGNALS } from "@containerd-ts/sys/constants.js";
import { isSyscallError } from "@containerd-ts/sys/errors.js";
import { libc } from "@containerd-ts/sys/libc.js";
import { loadCgroupManager, type Cgroups } from "./cgroup.js";
import { checkId, errNotExist, errNotRunning } from "./errors.js";
import { assertCan } from "./transitions.js";
import { runHooks, type HookState } from "./hooks.js";
import {
  containerDir,
  EXEC_FIFO,
  initAlive,
  loadState,
  publicState,
  saveState,
  frozenFromPaths,
  statusOf,
  type ContainerState,
  type Status,
} from "./state.js";

/** A container loaded from its state dir, with its live status and (lazily) its cgroup manager. */
export interface Loaded {
  state: ContainerState;
  status(): Status;
  /** the cgroups module costs a noticeable import: only commands that change cgroups load it */
  cgroups(): Promise<Cgroups>;
}

export async function loadContainer(root: string, id: string | undefined): Promise<Loaded> {
  const cid = checkId(id);
  const state = loadState(root, cid);
  if (!state) throw errNotExist();
  let manager: Promise<Cgroups> | undefined;
  return {
    state,
    status: () => statusOf(root, state, () => frozenFromPaths(state)),
    cgroups: () =>
      (manager ??= loadCgroupManager({
        cgroupsPath: state.config.cgroupsPath,
        containerId: cid,
        resources: state.config.resources,
        specDevicePaths: state.config.devices.map((d) => d.path),
      })),
  };
}

export function hookState(s: ContainerState, status: Status): HookState {
  return {
    ociVersion: s.config.ociVersion,
    id: s.id,
    status,
    pid: s.initPid,
    bundle: s.bundle,
    annotations: s.config.annotations,
  };
}

/** `start`: release the init blocked on the exec fifo, then poststart hooks. */
export async function startContainer(root: string, id: string | undefined): Promise<void> {
  const c = await loadContainer(root, id);
  assertCan("start", c.status(), c.state.id);
  const fifo = join(containerDir(root, c.state.id), EXEC_FIFO);
  // O_NONBLOCK: opening never waits for a writer, and reading never blocks the thread (the
  // shim runs this in its own event loop): EOF means no writer yet (the init may still be on
  // its way to the fifo), EAGAIN that the init opened it and runs its startContainer hooks
  const fd = openSync(fifo, fsc.O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  try {
    for (;;) {
      const n = readNonBlocking(fd);
      if (n > 0) break;
      if (n === 0 && !initAlive(c.state))
        throw errFailedPrecondition("cannot start a container that has stopped");
      await sleep(n === 0 ? 2 : 1);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
  runHooks("poststart", c.state.config.hooks.poststart, hookState(c.state, "running"));
}

/** Bytes read (0 at EOF), or -1 when nothing is there yet (EAGAIN). */
function readNonBlocking(fd: number): number {
  try {
    return readSync(fd, Buffer.alloc(1), 0, 1, null);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") return -1;
    throw e;
  }
}

/** runc's parseSignal: numbers, names with or without SIG, any case. */
export function parseSignal(raw: string | undefined): number {
  if (raw === undefined || raw === "") return SIGNALS.TERM!;
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n <= 0 || n > 64) throw errInvalidArgument(`unknown signal ${JSON.stringify(raw)}`);
    return n;
  }
  const name = raw.toUpperCase().replace(/^SIG/, "");
  const n = SIGNALS[name];
  if (n === undefined) throw errInvalidArgument(`unknown signal ${JSON.stringify(raw)}`);
  return n;
}

async function signalAll(c: Loaded, sig: number): Promise<void> {
  const sys = libc();
  const cgroups = await c.cgroups();
  // freeze so nothing forks while we signal (runc does the same); SIGKILL needs no thaw race care
  let froze = false;
  try {
    if (sig === SIGNALS.KILL && c.status() !== "paused") {
      cgroups.freeze();
      froze = true;
    }
  } catch {
    froze = false;
  }
  try {
    for (const pid of cgroups.pids()) {
      try {
        sys.kill(pid, sig);
      } catch (e) {
        if (!isSyscallError(e, "ESRCH")) throw e;
      }
    }
  } finally {
    if (froze) cgroups.thaw();
  }
}

export async function killContainer(
  root: string,
  id: string | undefined,
  signal: string | undefined,
  all: boolean,
): Promise<void> {
  const sig = parseSignal(signal);
  const c = await loadContainer(root, id);
  if (!all) assertCan("kill", c.status(), c.state.id);
  if (all) {
    await signalAll(c, sig);
    return;
  }
  try {
    libc().kill(c.state.initPid, sig);
  } catch (e) {
    if (isSyscallError(e, "ESRCH")) throw errNotRunning();
    throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Removes cgroup and state dir, then poststop hooks (their failures are only warnings). */
export async function destroy(root: string, c: Loaded, warn: (msg: string) => void): Promise<void> {
  (await c.cgroups()).destroy();
  rmSync(containerDir(root, c.state.id), { recursive: true, force: true });
  try {
    runHooks("poststop", c.state.config.hooks.poststop, hookState(c.state, "stopped"));
  } catch (e) {
    warn((e as Error).message);
  }
}

async function killAndDestroy(root: string, c: Loaded, warn: (msg: string) => void): Promise<void> {
  if (initAlive(c.state)) {
    try {
      libc().kill(c.state.initPid, SIGNALS.KILL!);
    } catch (e) {
      if (!isSyscallError(e, "ESRCH")) throw e;
    }
    if (c.status() === "paused") (await c.cgroups()).thaw();
    for (let i = 0; i < 200 && initAlive(c.state); i++) await sleep(10);
    if (initAlive(c.state)) throw new Error("container init still running");
  }
  // the init's death kills the pid namespace; without one, other processes may linger
  const cgroups = await c.cgroups();
  if (cgroups.pids().length) {
    await signalAll(c, SIGNALS.KILL!);
    for (let i = 0; i < 200 && cgroups.pids().length; i++) await sleep(10);
  }
  await destroy(root, c, warn);
}

export async function deleteContainer(
  root: string,
  id: string | undefined,
  force: boolean,
  warn: (m: string) => void,
): Promise<void> {
  const cid = checkId(id);
  if (!loadState(root, cid)) {
    const dir = containerDir(root, cid);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    if (force) return;
    throw errNotExist();
  }
  const c = await loadContainer(root, cid);
  const status = c.status();
  if (status === "stopped") return await destroy(root, c, warn);
  if (!force) assertCan("delete", status, cid);
  return killAndDestroy(root, c, warn);
}

export async function containerStateJson(root: string, id: string | undefined): Promise<string> {
  const c = await loadContainer(root, id);
  return JSON.stringify(publicState(root, c.state, c.status()), null, 2);
}

export async function listContainers(root: string): Promise<Record<string, unknown>[]> {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: Record<string, unknown>[] = [];
  for (const name of names) {
    const state = loadState(root, name);
    if (!state) continue;
    const c = await loadContainer(root, name);
    out.push(publicState(root, state, c.status(), true));
  }
  return out;
}

/** runc list's table: tabwriter(minwidth 12, tabwidth 1, padding 3). */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length + 3, 12)));
  return rows
    .map(
      (r) =>
        r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("") + "\n",
    )
    .join("");
}

export async function pauseContainer(root: string, id: string | undefined): Promise<void> {
  const c = await loadContainer(root, id);
  assertCan("pause", c.status(), c.state.id);
  (await c.cgroups()).freeze();
}

export async function resumeContainer(root: string, id: string | undefined): Promise<void> {
  const c = await loadContainer(root, id);
  assertCan("resume", c.status(), c.state.id);
  (await c.cgroups()).thaw();
}

export async function updateContainer(
  root: string,
  id: string | undefined,
  resources: Record<string, unknown>,
): Promise<void> {
  const c = await loadContainer(root, id);
  assertCan("update", c.status(), c.state.id);
  (await c.cgroups()).update(resources);
  c.state.config.resources = mergeResources(c.state.config.resources ?? {}, resources);
  saveState(root, c.state);
}

function mergeResources(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === "object" &&
      !Array.isArray(prev)
        ? { ...(prev as Record<string, unknown>), ...(v as Record<string, unknown>) }
        : v;
  }
  return out;
}
