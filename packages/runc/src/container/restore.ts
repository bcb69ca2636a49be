import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  fstatSync,
  constants as fsConstants,
} from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import { errInvalidArgument, errNotImplemented } from "@containerd-ts/errdefs/errors.js";
import {
  MNT_DETACH,
  MS_BIND,
  MS_REC,
  PR_SET_CHILD_SUBREAPER,
  WNOHANG,
} from "@containerd-ts/sys/constants.js";
import { libc } from "@containerd-ts/sys/libc.js";
import { secureJoin } from "../init/securejoin.js";
import type { ContainerConfig } from "../spec/config.js";
import type { Cgroups } from "./cgroup.js";
import { forwardSignals } from "./child.js";
import {
  cgroupManagerFor,
  claimContainerDir,
  readBundleConfig,
  recordInitState,
} from "./create.js";
import {
  checkCommonOptions,
  DESCRIPTORS_FILE,
  externalMounts,
  inheritedFds,
  RESTORE_LOG,
  restoreArgs,
  runCriu,
  type RestoreCriuOptions,
} from "./criu.js";
import { checkId } from "./errors.js";
import { destroy, loadContainer } from "./ops.js";

export interface RestoreRequest extends RestoreCriuOptions {
  root: string;
  id: string | undefined;
  bundle?: string;
  /** the criu binary (global --criu) */
  criu: string;
  pidFile?: string;
  consoleSocket?: string;
  detach: boolean;
  noSubreaper: boolean;
  warn: (msg: string) => void;
}

/** CRIU wants its root to be a mount point whose parent is not overmounted: runc's criu-root. */
const CRIU_ROOT = "criu-root";
const CRIU_PIDFILE = "criu.pid";

function readDescriptors(imagePath: string): string[] {
  const path = join(imagePath, DESCRIPTORS_FILE);
  try {
    const fds = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (!Array.isArray(fds)) throw new Error("not a list");
    return fds.map(String);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw errInvalidArgument(`open ${path}: no such file or directory`);
    throw errInvalidArgument(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Mountpoints the rootfs needs before CRIU mounts on them, as create would make them; those
 * under a tmpfs are left to CRIU, which restores the tmpfs content itself.
 */
function makeMountpoints(config: ContainerConfig): void {
  const tmpfs = config.mounts.filter((m) => m.type === "tmpfs").map((m) => m.destination);
  for (const m of config.mounts) {
    if (tmpfs.some((t) => m.destination.startsWith(`${t}/`))) continue;
    const dest = secureJoin(config.rootfs, m.destination);
    if (existsSync(dest)) continue;
    const bindOfFile =
      (m.options ?? []).some((o) => o === "bind" || o === "rbind") &&
      m.source !== undefined &&
      existsSync(m.source) &&
      !statSync(m.source).isDirectory();
    if (bindOfFile) {
      mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
      closeSync(openSync(dest, "a", 0o644));
    } else mkdirSync(dest, { recursive: true, mode: 0o755 });
  }
}

/**
 * Where each controller's cgroup of the new container sits inside its hierarchy, so CRIU puts
 * the restored tree there whatever cgroup the dumped one had (`--cgroup-root CTRL:PATH`).
 */
function cgroupRoots(
  paths: Record<string, string>,
  version: 1 | 2,
): Array<{ controller: string; path: string }> {
  const inHierarchy = (hostPath: string, depth: number) =>
    posix.join("/", ...hostPath.split("/").filter(Boolean).slice(depth));
  if (version === 2) {
    const v2 = paths[""];
    return v2 ? [{ controller: "", path: inHierarchy(v2, 3) }] : [];
  }
  // "" is the unified hierarchy of a hybrid host: CRIU has no controller name for it
  return Object.entries(paths)
    .filter(([controller]) => controller !== "")
    .map(([controller, hostPath]) => ({ controller, path: inHierarchy(hostPath, 4) }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The restored init is our child once criu has detached (we are its subreaper): wait for it. */
async function waitRestored(pid: number): Promise<number> {
  const sys = libc();
  const undo = forwardSignals(pid);
  try {
    for (;;) {
      let st;
      try {
        st = sys.waitpid(pid, WNOHANG);
      } catch {
        return 255; // not our child after all (-no-subreaper): nothing to wait on
      }
      if (st.pid === pid) return st.exitCode ?? 128 + (st.signal ?? 0);
      await sleep(50);
    }
  } finally {
    undo();
  }
}

/**
 * `runc-ts restore`: makes the container (state dir, cgroup) from the bundle, but instead of
 * an init it lets CRIU restore the dumped tree into it: the rootfs bind-mounted at criu-root,
 * external mounts mapped to their host sources, the stdio pipes of the dump re-wired to ours,
 * the tree placed in the new cgroup. state.json then names the restored init, so state, kill
 * and delete work as on a created one. Detached it returns at once; else it waits for the
 * init, exits with its status and deletes the container (runc's run does the same).
 */
/**
 * The real ctr always gives a task a stdin FIFO, which our shim hands to the container, so the
 * image holds fd 0 as an external FIFO; a restore given no stdin has /dev/null there, onto
 * which CRIU cannot put a FIFO. A fresh FIFO held open read-write stands in: reads wait, as
 * they did before the checkpoint while the shim held the writer.
 */
function stdinStandIn(
  descriptors: readonly string[],
  dir: string,
  sys: Pick<ReturnType<typeof libc>, "mkfifo">,
): number | undefined {
  if (!descriptors[0]?.startsWith("file[") || fstatSync(0).isFIFO()) return undefined;
  const path = join(dir, "criu-stdin");
  // the mode containerd's cio gives its FIFOs: CRIU checks it against the image
  sys.mkfifo(path, 0o700);
  const fd = openSync(path, fsConstants.O_RDWR);
  rmSync(path);
  return fd;
}

export async function restoreContainer(o: RestoreRequest): Promise<number> {
  const id = checkId(o.id);
  const bundle = resolve(o.bundle || process.cwd());
  const config = readBundleConfig(bundle, id);
  if (config.process.terminal || o.consoleSocket)
    throw errNotImplemented("restore of a container with a terminal is not supported by runc-ts");
  checkCommonOptions(o);
  const imagePath = resolve(o.imagePath || join(process.cwd(), "checkpoint"));
  const descriptors = readDescriptors(imagePath);
  const workPath = o.workPath ? resolve(o.workPath) : undefined;
  const dir = claimContainerDir(o.root, id);
  const sys = libc();
  const criuRoot = join(dir, CRIU_ROOT);
  let cgroups: Cgroups | undefined;
  let mounted = false;
  let pid = 0;
  const releaseCriuRoot = () => {
    if (mounted) sys.umount2(criuRoot, MNT_DETACH);
    mounted = false;
    try {
      rmdirSync(criuRoot);
    } catch {
      // never made, or gone with the state dir
    }
  };
  try {
    cgroups = await cgroupManagerFor(config, id);
    cgroups.create();
    const cgroupPaths = cgroups.paths();
    makeMountpoints(config);
    if (workPath) mkdirSync(workPath, { recursive: true, mode: 0o700 });
    mkdirSync(criuRoot, { mode: 0o755 });
    sys.mount(config.rootfs, criuRoot, null, MS_BIND | MS_REC, null);
    mounted = true;
    // foreground: the init must come back to us once criu detaches from it
    if (!o.detach && !o.noSubreaper) sys.prctl(PR_SET_CHILD_SUBREAPER, 1);
    const pidFile = join(dir, CRIU_PIDFILE);
    const args = restoreArgs(
      criuRoot,
      { ...o, imagePath, workPath },
      {
        mounts: externalMounts(config, { paths: cgroupPaths, version: cgroups.version }, "restore"),
        inheritFds: inheritedFds(descriptors),
        cgroupRoots: cgroupRoots(cgroupPaths, cgroups.version),
        pidFile,
      },
    );
    const logPath = join(workPath ?? imagePath, RESTORE_LOG);
    const stdin = stdinStandIn(descriptors, dir, sys);
    try {
      await runCriu(o.criu, args, { type: "RESTORE", logPath, inheritStdio: true, stdin });
    } finally {
      if (stdin !== undefined) closeSync(stdin);
    }
    pid = Number(readFileSync(pidFile, "utf8").trim());
    const state = recordInitState(o, { id, pid, bundle, config, cgroups, cgroupPaths });
    if (!state) throw new Error("the restored container init exited at once");
  } catch (e) {
    if (pid > 0) {
      try {
        sys.kill(pid, 9);
      } catch {
        // gone
      }
    }
    // the error that got us here matters more than any of these failing
    try {
      releaseCriuRoot();
      cgroups?.destroy();
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // reported by the original error
    }
    throw e;
  } finally {
    releaseCriuRoot();
    rmSync(join(dir, CRIU_PIDFILE), { force: true });
  }
  if (o.detach) return 0;
  const code = await waitRestored(pid);
  await destroy(o.root, await loadContainer(o.root, id), o.warn);
  return code;
}
