import { errnoNumber, SyscallError } from "./errors.js";
import type {
  CapabilitySets,
  Pty,
  PeerCredentials,
  ReceivedMessage,
  SyscallName,
  Syscalls,
  WaitidStatus,
  WaitStatus,
} from "./syscalls.js";

export interface RecordedCall {
  name: SyscallName;
  args: unknown[];
}

interface Failure {
  /** 1-based index among all calls, or among calls of `name` when given */
  nth: number;
  name?: SyscallName;
  code: string;
  path?: string;
}

/** Thrown by the fake's execve so code under test sees "the process was replaced". */
export class FakeExec extends Error {
  constructor(
    readonly path: string,
    readonly argv: readonly string[],
    readonly envp: readonly string[],
  ) {
    super(`execve ${path}`);
  }
}

/**
 * A Syscalls that touches nothing: it records each typed call and can fail the Nth one
 * (overall or of a given name) with an errno code.
 */
export class RecordingSyscalls implements Syscalls {
  readonly calls: RecordedCall[] = [];
  private readonly failures: Failure[] = [];
  private readonly counts = new Map<SyscallName, number>();
  private nextFd = 100;
  pid = 4242;
  caps: CapabilitySets = { effective: 0n, permitted: 0n, inheritable: 0n };
  umaskValue = 0o022;

  /** Fail the nth call overall (1-based) with errno `code`. */
  failNth(nth: number, code: string): this {
    this.failures.push({ nth, code });
    return this;
  }
  /** Fail the nth call of `name` (1-based, default first) with errno `code`. */
  failCall(name: SyscallName, code: string, nth = 1, path?: string): this {
    this.failures.push({ nth, name, code, path });
    return this;
  }
  /** Calls by name, arguments only. */
  argsOf(name: SyscallName): unknown[][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args);
  }
  names(): SyscallName[] {
    return this.calls.map((c) => c.name);
  }

  private rec(name: SyscallName, args: unknown[], path?: string): void {
    this.calls.push({ name, args });
    const byName = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, byName);
    const total = this.calls.length;
    const f = this.failures.find((x) =>
      x.name === undefined ? x.nth === total : x.name === name && x.nth === byName,
    );
    if (f) throw new SyscallError(name, errnoNumber(f.code), f.path ?? path);
  }

  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void {
    this.rec("mount", [source, target, fstype, flags, data], target);
  }
  umount2(target: string, flags: number): void {
    this.rec("umount2", [target, flags], target);
  }
  pivotRoot(newRoot: string, putOld: string): void {
    this.rec("pivotRoot", [newRoot, putOld], newRoot);
  }
  chroot(path: string): void {
    this.rec("chroot", [path], path);
  }
  chdir(path: string): void {
    this.rec("chdir", [path], path);
  }
  fchdir(fd: number): void {
    this.rec("fchdir", [fd]);
  }
  unshare(flags: number): void {
    this.rec("unshare", [flags]);
  }
  setns(fd: number, nstype: number): void {
    this.rec("setns", [fd, nstype]);
  }
  sethostname(name: string): void {
    this.rec("sethostname", [name], name);
  }
  setdomainname(name: string): void {
    this.rec("setdomainname", [name], name);
  }
  setresuid(ruid: number, euid: number, suid: number): void {
    this.rec("setresuid", [ruid, euid, suid]);
  }
  setresgid(rgid: number, egid: number, sgid: number): void {
    this.rec("setresgid", [rgid, egid, sgid]);
  }
  setgroups(gids: readonly number[]): void {
    this.rec("setgroups", [[...gids]]);
  }
  capget(): CapabilitySets {
    this.rec("capget", []);
    return { ...this.caps };
  }
  capset(sets: CapabilitySets): void {
    this.rec("capset", [{ ...sets }]);
    this.caps = { ...sets };
  }
  prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
    this.rec("prctl", [option, arg2, arg3, arg4, arg5]);
    return 0;
  }
  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    this.rec("setrlimit", [resource, soft, hard]);
  }
  prlimit(pid: number, resource: number, soft: bigint, hard: bigint): void {
    this.rec("prlimit", [pid, resource, soft, hard]);
  }
  umask(mask: number): number {
    this.rec("umask", [mask]);
    const old = this.umaskValue;
    this.umaskValue = mask;
    return old;
  }
  mknod(path: string, mode: number, dev: bigint): void {
    this.rec("mknod", [path, mode, dev], path);
  }
  symlink(target: string, linkPath: string): void {
    this.rec("symlink", [target, linkPath], linkPath);
  }
  mkfifo(path: string, mode: number): void {
    this.rec("mkfifo", [path, mode], path);
  }
  open(path: string, flags: number, mode = 0): number {
    this.rec("open", [path, flags, mode], path);
    return this.nextFd++;
  }
  close(fd: number): void {
    this.rec("close", [fd]);
  }
  dup2(oldFd: number, newFd: number): number {
    this.rec("dup2", [oldFd, newFd]);
    return newFd;
  }
  dup3(oldFd: number, newFd: number, flags: number): number {
    this.rec("dup3", [oldFd, newFd, flags]);
    return newFd;
  }
  fcntl(fd: number, cmd: number, arg = 0): number {
    this.rec("fcntl", [fd, cmd, arg]);
    return 0;
  }
  write(fd: number, data: Buffer): number {
    this.rec("write", [fd, Buffer.from(data)]);
    return data.length;
  }
  ioctlSetWinsize(fd: number, rows: number, cols: number): void {
    this.rec("ioctlSetWinsize", [fd, rows, cols]);
  }
  ioctlSetCtty(fd: number): void {
    this.rec("ioctlSetCtty", [fd]);
  }
  setsid(): number {
    this.rec("setsid", []);
    return this.pid;
  }
  openPty(): Pty {
    this.rec("openPty", []);
    return { master: this.nextFd++, slavePath: "/dev/pts/0" };
  }
  socket(domain: number, type: number, protocol: number): number {
    this.rec("socket", [domain, type, protocol]);
    return this.nextFd++;
  }
  connect(fd: number, path: string): void {
    this.rec("connect", [fd, path], path);
  }
  bind(fd: number, path: string): void {
    this.rec("bind", [fd, path], path);
  }
  listen(fd: number, backlog: number): void {
    this.rec("listen", [fd, backlog]);
  }
  accept(fd: number): number {
    this.rec("accept", [fd]);
    return this.nextFd++;
  }
  sendFds(fd: number, fds: readonly number[], data: Buffer): number {
    this.rec("sendFds", [fd, [...fds], Buffer.from(data)]);
    return data.length;
  }
  recvFds(fd: number, maxFds: number, maxData: number): ReceivedMessage {
    this.rec("recvFds", [fd, maxFds, maxData]);
    return { data: Buffer.alloc(0), fds: [] };
  }
  peerCredentials(fd: number): PeerCredentials {
    this.rec("peerCredentials", [fd]);
    return { pid: 0, uid: 0, gid: 0 };
  }
  kill(pid: number, signal: number): void {
    this.rec("kill", [pid, signal]);
  }
  waitpid(pid: number, options: number): WaitStatus {
    this.rec("waitpid", [pid, options]);
    return { pid: 0, status: 0 };
  }
  waitid(idtype: number, id: number, options: number): WaitidStatus {
    this.rec("waitid", [idtype, id, options]);
    return { pid: 0, code: 0, status: 0 };
  }
  resetSignals(): void {
    this.rec("resetSignals", []);
  }
  exitNow(code: number): never {
    this.rec("exitNow", [code]);
    throw new Error(`exit ${code}`);
  }
  execve(
    path: string,
    argv: readonly string[],
    envp: readonly string[],
    keepFds: readonly number[],
  ): never {
    this.rec("execve", [path, [...argv], [...envp], [...keepFds]], path);
    throw new FakeExec(path, argv, envp);
  }
  getpid(): number {
    this.rec("getpid", []);
    return this.pid;
  }
  joinSessionKeyring(name: string): number {
    this.rec("joinSessionKeyring", [name]);
    return 1;
  }
  keyctlSetPerm(serial: number, perm: number): void {
    this.rec("keyctlSetPerm", [serial, perm]);
  }
  seccompSetFilter(filter: Buffer, flags: number): void {
    this.rec("seccompSetFilter", [Buffer.from(filter), flags]);
  }
}
