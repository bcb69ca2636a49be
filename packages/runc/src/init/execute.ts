import {
  accessSync,
  chownSync,
  constants as fsConstants,
  existsSync,
  fstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, posix } from "node:path";
import {
  makedev,
  MNT_DETACH,
  MS_BIND,
  MS_MOVE,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  O_CLOEXEC,
  O_NOCTTY,
  O_PATH,
  O_RDWR,
  O_WRONLY,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
} from "@containerd-ts/sys/constants.js";
import { isSyscallError } from "@containerd-ts/sys/errors.js";
import type { Syscalls } from "@containerd-ts/sys/syscalls.js";
import type { LinuxSeccomp } from "../spec/types.js";
import { boundingDrops } from "./capabilities.js";
import type { InitStep } from "./plan.js";
import { secureJoin } from "./securejoin.js";

/** Everything a plan needs from outside: the syscalls and the hand-offs with the parent. */
export interface InitContext {
  sys: Syscalls;
  /** fds the new process keeps besides 0-2 (--preserve-fds) */
  extraFds: number[];
  /** cgroup.procs files (host paths) to join right before execve */
  cgroupProcsFiles: string[];
  /** cgroup hierarchy paths for a `cgroup` mount, keyed by controller; "" key = v2 */
  cgroupPaths: Record<string, string>;
  consoleFd?: number;
  /** tell the parent and wait: createRuntime/prestart hooks run there */
  syncHooks(): void;
  syncReady(): void;
  runHooks(name: "createContainer" | "startContainer"): void;
  /** the seccomp module: BPF program and seccomp(2) flags for a profile */
  compileSeccomp?: (profile: LinuxSeccomp) => { program: Buffer; flags: number };
  /** opens the exec fifo for writing without blocking the main thread (runAsync) */
  openFifo?: (path: string) => Promise<number>;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs the plan; returns only by throwing (the last step is execve). */
export class PlanExecutor {
  /** the rootfs before pivot_root, "/" after */
  private root = "/";
  private execFifoFd = -1;
  private execFifoWriteFd = -1;
  private cgroupFds: number[] = [];
  private execPath = "";

  constructor(private readonly ctx: InitContext) {}

  run(steps: readonly InitStep[]): void {
    for (const step of steps) this.guarded(step, () => this.step(step));
  }

  /**
   * Like run(), but the exec fifo is opened off the main thread (ctx.openFifo): while the
   * init waits for `start`, Node's event loop runs and a SIGTERM can end it, as with runc.
   */
  async runAsync(steps: readonly InitStep[]): Promise<void> {
    for (const step of steps) {
      if (step.op === "waitExecFifo" && this.ctx.openFifo) {
        const path = `/proc/self/fd/${this.execFifoFd}`;
        this.execFifoWriteFd = await this.ctx.openFifo(path).catch((e: unknown) => {
          throw this.named(step, e);
        });
        continue;
      }
      this.guarded(step, () => this.step(step));
    }
  }

  private guarded(step: InitStep, f: () => void): void {
    try {
      f();
    } catch (e) {
      throw this.named(step, e);
    }
  }

  private named(step: InitStep, e: unknown): unknown {
    if (e instanceof Error && !e.message.includes(step.op)) e.message = `${step.op}: ${e.message}`;
    return e;
  }

  private target(dest: string): string {
    return secureJoin(this.root, dest);
  }

  private step(s: InitStep): void {
    const sys = this.ctx.sys;
    switch (s.op) {
      case "propagation":
        sys.mount(null, s.target === "/" ? "/" : this.target(s.target), null, s.flags, null);
        return;
      case "joinSessionKeyring":
        try {
          const serial = sys.joinSessionKeyring(s.name);
          // runc's permissions: the possessor's plus view/read/search... for the user
          sys.keyctlSetPerm(serial, 0x3f130000 | 0x080a0000);
        } catch (e) {
          // like runc: a kernel without keyrings is not an error
          if (!isSyscallError(e, "ENOSYS")) throw e;
        }
        return;
      case "bindRootfs":
        sys.mount(s.rootfs, s.rootfs, null, MS_BIND | MS_REC, null);
        this.root = s.rootfs;
        return;
      case "mount": {
        const target = this.target(s.dest);
        if (s.bind) {
          const source = s.source ?? "";
          if (statSync(source).isDirectory()) mkdirSync(target, { recursive: true });
          else ensureFile(target);
        } else {
          mkdirSync(target, { recursive: true });
        }
        sys.mount(s.source, target, s.fstype, s.flags, s.data);
        return;
      }
      case "remount":
        sys.mount(null, this.target(s.dest), null, MS_BIND | MS_REMOUNT | s.flags, null);
        return;
      case "cgroupMount":
        this.mountCgroups(s.dest, s.flags, s.readonly);
        return;
      case "mknod": {
        const target = this.target(s.dest);
        mkdirSync(dirname(target), { recursive: true });
        if (existsSync(target)) return;
        sys.mknod(target, s.mode, makedev(s.major, s.minor));
        chownSync(target, s.uid, s.gid);
        return;
      }
      case "symlink": {
        const target = this.target(dirname(s.dest)) + "/" + posix.basename(s.dest);
        try {
          sys.symlink(s.target, target);
        } catch (e) {
          if (!isSyscallError(e, "EEXIST")) throw e;
        }
        return;
      }
      case "openExecFifo":
        this.execFifoFd = sys.open(s.path, O_PATH | O_CLOEXEC);
        return;
      case "openCgroupProcs":
        this.cgroupFds = this.ctx.cgroupProcsFiles.map((f) => sys.open(f, O_WRONLY | O_CLOEXEC));
        return;
      case "writeFile":
        writeFileSync(s.path, s.data);
        return;
      case "syncHooks":
        this.ctx.syncHooks();
        return;
      case "runHooks":
        this.ctx.runHooks(s.name);
        return;
      case "pivotRoot":
        sys.chdir(s.rootfs);
        sys.pivotRoot(".", ".");
        // the old root is stacked under "."; make it slave so the detach does not propagate
        sys.mount(null, ".", null, MS_SLAVE | MS_REC, null);
        sys.umount2(".", MNT_DETACH);
        sys.chdir("/");
        this.root = "/";
        return;
      case "moveRoot":
        sys.chdir(s.rootfs);
        sys.mount(s.rootfs, "/", null, MS_MOVE, null);
        sys.chroot(".");
        sys.chdir("/");
        this.root = "/";
        return;
      case "maskPath": {
        const p = this.target(s.path);
        if (!existsSync(p)) return;
        if (statSync(p).isDirectory()) sys.mount("tmpfs", p, "tmpfs", MS_RDONLY, null);
        else sys.mount("/dev/null", p, null, MS_BIND, null);
        return;
      }
      case "readonlyPath": {
        const p = this.target(s.path);
        if (!existsSync(p)) return;
        sys.mount(p, p, null, MS_BIND | MS_REC, null);
        sys.mount(
          null,
          p,
          null,
          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC,
          null,
        );
        return;
      }
      case "remountRootReadonly":
        sys.mount(null, "/", null, MS_BIND | MS_REMOUNT | MS_RDONLY, null);
        return;
      case "sethostname":
        sys.sethostname(s.name);
        return;
      case "setdomainname":
        sys.setdomainname(s.name);
        return;
      case "sysctl":
        writeFileSync("/proc/sys/" + s.key.replace(/\./g, "/"), s.value);
        return;
      case "setrlimit":
        sys.setrlimit(s.resource, s.soft, s.hard);
        return;
      case "console":
        this.setupConsole(s.size);
        return;
      case "chdir":
        sys.chdir(s.path);
        return;
      case "findExecutable":
        this.execPath = findExecutable(s.arg0, s.env);
        return;
      case "syncReady":
        this.ctx.syncReady();
        return;
      case "waitExecFifo":
        // blocks until `start` opens the fifo for reading
        this.execFifoWriteFd = openRetry(
          sys,
          `/proc/self/fd/${this.execFifoFd}`,
          O_WRONLY | O_CLOEXEC,
        );
        return;
      case "signalExecFifo":
        sys.write(this.execFifoWriteFd, Buffer.from("0"));
        sys.close(this.execFifoWriteFd);
        sys.close(this.execFifoFd);
        return;
      case "joinCgroup":
        // "0" is "the writer": the pid is looked up in our own (new) pid namespace otherwise
        for (const fd of this.cgroupFds) {
          sys.write(fd, Buffer.from("0"));
          sys.close(fd);
        }
        this.cgroupFds = [];
        return;
      case "unshare":
        sys.unshare(s.flags);
        return;
      case "setns": {
        const fd = sys.open(s.path, O_CLOEXEC);
        sys.setns(fd, s.nstype);
        sys.close(fd);
        return;
      }
      case "noNewPrivileges":
        sys.prctl(PR_SET_NO_NEW_PRIVS, 1);
        return;
      case "dropBounding":
        for (const cap of boundingDrops(s.keep, lastCap())) {
          try {
            sys.prctl(PR_CAPBSET_DROP, cap);
          } catch (e) {
            if (!isSyscallError(e, "EINVAL")) throw e;
          }
        }
        return;
      case "setUser":
        sys.setgroups(s.additionalGids);
        sys.prctl(PR_SET_KEEPCAPS, 1);
        sys.setresgid(s.gid, s.gid, s.gid);
        sys.setresuid(s.uid, s.uid, s.uid);
        sys.prctl(PR_SET_KEEPCAPS, 0);
        return;
      case "capset":
        sys.capset(s.sets);
        return;
      case "ambient":
        // like runc: a cap missing from permitted or inheritable cannot be ambient; skip it
        for (const cap of s.caps) {
          try {
            sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap);
          } catch (e) {
            if (!isSyscallError(e, "EPERM")) throw e;
          }
        }
        return;
      case "umask":
        sys.umask(s.mask);
        return;
      case "seccomp": {
        if (!this.ctx.compileSeccomp)
          throw new Error("seccomp is not supported by this build of runc-ts");
        const { program, flags } = this.ctx.compileSeccomp(s.profile);
        sys.seccompSetFilter(program, flags);
        return;
      }
      case "exec": {
        const env = withHome(s.env);
        // runc makes every container process a session leader; CRIU refuses to dump a tree
        // whose session leader is outside its pid namespace (EPERM: the console did it)
        try {
          sys.setsid();
        } catch {
          // already a session leader
        }
        reopenDevNull(sys);
        sys.resetSignals();
        sys.execve(this.execPath || s.args[0]!, s.args, env, [0, 1, 2, ...this.ctx.extraFds]);
      }
    }
  }

  private mountCgroups(dest: string, flags: number, readonly: boolean): void {
    const sys = this.ctx.sys;
    const target = this.target(dest);
    mkdirSync(target, { recursive: true });
    const v2 = this.ctx.cgroupPaths[""];
    if (v2 !== undefined) {
      sys.mount(v2, target, null, MS_BIND | MS_REC, null);
      if (readonly || flags)
        sys.mount(
          null,
          target,
          null,
          MS_BIND | MS_REMOUNT | flags | (readonly ? MS_RDONLY : 0),
          null,
        );
      return;
    }
    sys.mount("tmpfs", target, "tmpfs", flags, "mode=755");
    for (const [controller, hostPath] of Object.entries(this.ctx.cgroupPaths)) {
      const name = controller.startsWith("name=") ? controller.slice(5) : controller;
      const sub = posix.join(target, name);
      mkdirSync(sub, { recursive: true });
      sys.mount(hostPath, sub, null, MS_BIND | MS_REC, null);
      if (readonly) sys.mount(null, sub, null, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, null);
    }
    if (readonly) sys.mount(null, target, null, MS_REMOUNT | MS_RDONLY | flags, null);
  }

  private setupConsole(size?: { height: number; width: number }): void {
    const sys = this.ctx.sys;
    const consoleFd = this.ctx.consoleFd;
    if (consoleFd === undefined)
      throw new Error("process.terminal is set but no --console-socket was given");
    const pty = sys.openPty();
    sys.sendFds(consoleFd, [pty.master], Buffer.from("/dev/ptmx"));
    sys.close(pty.master);
    sys.close(consoleFd);
    const slave = sys.open(pty.slavePath, O_RDWR | O_NOCTTY);
    if (existsSync("/dev")) {
      try {
        ensureFile("/dev/console");
        sys.mount(pty.slavePath, "/dev/console", null, MS_BIND, null);
      } catch {
        // /dev may be read-only: the console bind is a convenience
      }
    }
    if (size) sys.ioctlSetWinsize(slave, size.height, size.width);
    for (const fd of [0, 1, 2]) sys.dup2(slave, fd);
    if (slave > 2) sys.close(slave);
    sys.setsid();
    sys.ioctlSetCtty(0);
  }
}

/**
 * stdio that is the host's /dev/null is reopened from the container's own /dev/null, as runc
 * does: the host's device lives on a mount the container does not have, which CRIU refuses.
 */
function reopenDevNull(sys: Syscalls): void {
  let own: { dev: number; rdev: number };
  try {
    const st = statSync("/dev/null");
    if (!st.isCharacterDevice()) return;
    own = st;
  } catch {
    return;
  }
  for (const fd of [0, 1, 2]) {
    try {
      const st = fstatSync(fd);
      // a null device node on another filesystem than the container's own /dev/null
      if (!st.isCharacterDevice() || st.rdev !== own.rdev || st.dev === own.dev) continue;
      const reopened = sys.open("/dev/null", O_RDWR);
      sys.dup2(reopened, fd);
      sys.close(reopened);
    } catch {
      // a closed or odd fd stays as it is
    }
  }
}

function ensureFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) writeFileSync(path, "");
}

function openRetry(sys: Syscalls, path: string, flags: number): number {
  for (;;) {
    try {
      return sys.open(path, flags);
    } catch (e) {
      if (!isSyscallError(e, "EINTR")) throw e;
    }
  }
}

function lastCap(): number {
  try {
    return Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  } catch {
    return 40;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** exec.LookPath with the container's PATH (runc resolves before the fifo wait). */
export function findExecutable(arg0: string, env: readonly string[]): string {
  if (arg0.includes("/")) {
    if (isExecutableFile(arg0)) return arg0;
    throw new Error(`exec: ${JSON.stringify(arg0)}: stat ${arg0}: no such file or directory`);
  }
  const pathVar =
    env
      .filter((e) => e.startsWith("PATH="))
      .pop()
      ?.slice(5) ?? DEFAULT_PATH;
  for (const dir of pathVar.split(":")) {
    const p = posix.join(dir === "" ? "." : dir, arg0);
    if (isExecutableFile(p)) return p;
  }
  throw new Error(`exec: ${JSON.stringify(arg0)}: executable file not found in $PATH`);
}

/** runc adds HOME from /etc/passwd (or "/") when the process env has none. */
function withHome(env: readonly string[]): string[] {
  if (env.some((e) => e.startsWith("HOME="))) return [...env];
  let home = "/";
  try {
    const uid = process.getuid?.() ?? 0;
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length >= 6 && Number(f[2]) === uid) {
        home = f[5] || "/";
        break;
      }
    }
  } catch {
    // no passwd in the rootfs
  }
  return [...env, `HOME=${home}`];
}
