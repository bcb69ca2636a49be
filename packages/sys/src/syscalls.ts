/** Capability sets as 64-bit masks (bit n = CAP number n). */
export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** What waitpid reports: pid 0 means WNOHANG found nothing. */
export interface WaitStatus {
  pid: number;
  /** raw wait status word */
  status: number;
  /** exit code when the child exited, else undefined */
  exitCode?: number;
  /** terminating signal when the child was killed, else undefined */
  signal?: number;
}

/** What waitid reports (from siginfo_t): pid 0 means WNOHANG found nothing. */
export interface WaitidStatus {
  pid: number;
  /** si_code: CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3, CLD_TRAPPED 4, CLD_STOPPED 5, CLD_CONTINUED 6 */
  code: number;
  /** exit code for CLD_EXITED, signal number otherwise */
  status: number;
}

export interface Pty {
  master: number;
  slavePath: string;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface ReceivedMessage {
  data: Buffer;
  fds: number[];
}

/**
 * Every libc call this project makes, typed (youki's Syscall trait). The real implementation
 * is `LibcSyscalls`; tests use `RecordingSyscalls`. Methods throw `SyscallError` on failure.
 */
export interface Syscalls {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void;
  umount2(target: string, flags: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chroot(path: string): void;
  chdir(path: string): void;
  fchdir(fd: number): void;
  unshare(flags: number): void;
  setns(fd: number, nstype: number): void;
  sethostname(name: string): void;
  setdomainname(name: string): void;
  setresuid(ruid: number, euid: number, suid: number): void;
  setresgid(rgid: number, egid: number, sgid: number): void;
  setgroups(gids: readonly number[]): void;
  capget(): CapabilitySets;
  capset(sets: CapabilitySets): void;
  /** prctl with up to four integer arguments; returns prctl's result. */
  prctl(option: number, arg2?: number, arg3?: number, arg4?: number, arg5?: number): number;
  setrlimit(resource: number, soft: bigint, hard: bigint): void;
  prlimit(pid: number, resource: number, soft: bigint, hard: bigint): void;
  umask(mask: number): number;
  mknod(path: string, mode: number, dev: bigint): void;
  symlink(target: string, linkPath: string): void;
  mkfifo(path: string, mode: number): void;
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  dup2(oldFd: number, newFd: number): number;
  dup3(oldFd: number, newFd: number, flags: number): number;
  fcntl(fd: number, cmd: number, arg?: number): number;
  write(fd: number, data: Buffer): number;
  ioctlSetWinsize(fd: number, rows: number, cols: number): void;
  ioctlSetCtty(fd: number): void;
  setsid(): number;
  /** posix_openpt + grantpt + unlockpt + ptsname */
  openPty(): Pty;
  socket(domain: number, type: number, protocol: number): number;
  /** unix socket path */
  connect(fd: number, path: string): void;
  bind(fd: number, path: string): void;
  listen(fd: number, backlog: number): void;
  accept(fd: number): number;
  /** sendmsg with one SCM_RIGHTS control message */
  sendFds(fd: number, fds: readonly number[], data: Buffer): number;
  /** recvmsg accepting up to maxFds descriptors; received fds are close-on-exec */
  recvFds(fd: number, maxFds: number, maxData: number): ReceivedMessage;
  /** getsockopt(SO_PEERCRED): who holds the other end of a connected unix socket */
  peerCredentials(fd: number): PeerCredentials;
  kill(pid: number, signal: number): void;
  waitpid(pid: number, options: number): WaitStatus;
  waitid(idtype: number, id: number, options: number): WaitidStatus;
  /**
   * Every catchable signal back to SIG_DFL. Node ignores SIGPIPE and SIGXFSZ, and ignored
   * signals survive execve: call this right before execve so the new program starts clean.
   */
  resetSignals(): void;
  /** _exit(2): no atexit, no waiting for Node's worker threads (one may be stuck in a syscall) */
  exitNow(code: number): never;
  /** Replaces the process. `keepFds` get FD_CLOEXEC cleared first. Returns only by throwing. */
  execve(
    path: string,
    argv: readonly string[],
    envp: readonly string[],
    keepFds: readonly number[],
  ): never;
  getpid(): number;
  /** keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring; returns its serial */
  joinSessionKeyring(name: string): number;
  /** keyctl(KEYCTL_SETPERM, serial, perm) */
  keyctlSetPerm(serial: number, perm: number): void;
  /** prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) or seccomp(2) with flags when non-zero */
  seccompSetFilter(filter: Buffer, flags: number): void;
}

/** The calls' names, for fakes and for failure injection. */
export type SyscallName = keyof Syscalls;
