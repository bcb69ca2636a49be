import type { DataType as FfiDataType } from "ffi-rs";
import {
  AF_UNIX,
  F_GETFD,
  F_SETFD,
  FD_CLOEXEC,
  O_CLOEXEC,
  O_NOCTTY,
  O_RDWR,
  PR_SET_SECCOMP,
  S_IFIFO,
  SCM_RIGHTS,
  SECCOMP_MODE_FILTER,
  SECCOMP_SET_MODE_FILTER,
  SOL_SOCKET,
  SO_PEERCRED,
  TIOCSCTTY,
  TIOCSWINSZ,
} from "./constants.js";
import { SyscallError } from "./errors.js";
import {
  callErrno,
  cStringTable,
  DataType,
  free,
  malloc,
  readMem,
  writeMem,
  type Param,
} from "./native.js";
import type {
  CapabilitySets,
  PeerCredentials,
  Pty,
  ReceivedMessage,
  Syscalls,
  WaitidStatus,
  WaitStatus,
} from "./syscalls.js";

const { I32, I64, String: Str, U8Array } = DataType;

const SYS_NUMBERS: Record<string, { pivot_root: number; seccomp: number; keyctl: number }> = {
  x64: { pivot_root: 155, seccomp: 317, keyctl: 250 },
  arm64: { pivot_root: 41, seccomp: 277, keyctl: 219 },
};
const KEYCTL_JOIN_SESSION_KEYRING = 1;
const KEYCTL_SETPERM = 5;
const MSG_CMSG_CLOEXEC = 0x40000000;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

function sysNumbers(): { pivot_root: number; seccomp: number; keyctl: number } {
  const n = SYS_NUMBERS[process.arch];
  if (!n) throw new Error(`unsupported architecture ${process.arch}`);
  return n;
}

/** Calls and throws a SyscallError when the result is -1. */
function check(
  syscall: string,
  funcName: string,
  ret: FfiDataType.I32 | FfiDataType.I64,
  params: Param[],
  values: unknown[],
  path?: string,
): number {
  const { value, errno } = callErrno(funcName, ret, params, values);
  if (value === -1) throw new SyscallError(syscall, errno, path);
  return value;
}

function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path, "utf8");
  if (p.length > 107) throw new SyscallError("sockaddr_un", 36 /* ENAMETOOLONG */, path);
  const b = Buffer.alloc(110);
  b.writeUInt16LE(AF_UNIX, 0);
  p.copy(b, 2);
  return b;
}

/** decodes a wait(2) status word */
export function decodeWaitStatus(pid: number, status: number): WaitStatus {
  const termSig = status & 0x7f;
  if (termSig === 0) return { pid, status, exitCode: (status >> 8) & 0xff };
  if (termSig !== 0x7f) return { pid, status, signal: termSig };
  return { pid, status };
}

function cmsgSpace(len: number): number {
  return 16 + Math.ceil(len / 8) * 8;
}

/** msghdr, iovec, control and data laid out in one malloc'd block. */
function buildMsg(
  dataLen: number,
  controlLen: number,
): { base: number; image: Buffer; dataOff: number; ctlOff: number } {
  const msgOff = 0;
  const iovOff = 64;
  const ctlOff = 80;
  const dataOff = ctlOff + controlLen;
  const size = dataOff + Math.max(dataLen, 1);
  const base = malloc(size);
  const image = Buffer.alloc(size);
  image.writeBigUInt64LE(0n, msgOff); // msg_name
  image.writeUInt32LE(0, msgOff + 8); // msg_namelen
  image.writeBigUInt64LE(BigInt(base + iovOff), msgOff + 16); // msg_iov
  image.writeBigUInt64LE(1n, msgOff + 24); // msg_iovlen
  image.writeBigUInt64LE(controlLen ? BigInt(base + ctlOff) : 0n, msgOff + 32); // msg_control
  image.writeBigUInt64LE(BigInt(controlLen), msgOff + 40); // msg_controllen
  image.writeBigUInt64LE(BigInt(base + dataOff), iovOff); // iov_base
  image.writeBigUInt64LE(BigInt(Math.max(dataLen, 1)), iovOff + 8); // iov_len
  return { base, image, dataOff, ctlOff };
}

/** The real libc implementation over ffi-rs. */
export class LibcSyscalls implements Syscalls {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void {
    // ffi-rs has no nullable string: NULL travels as an I64 zero.
    const params: Param[] = [
      source === null ? I64 : Str,
      Str,
      fstype === null ? I64 : Str,
      I64,
      data === null ? I64 : Str,
    ];
    check(
      "mount",
      "mount",
      I32,
      params,
      [source ?? 0, target, fstype ?? 0, flags, data ?? 0],
      target,
    );
  }
  umount2(target: string, flags: number): void {
    check("umount2", "umount2", I32, [Str, I32], [target, flags], target);
  }
  pivotRoot(newRoot: string, putOld: string): void {
    check(
      "pivot_root",
      "syscall",
      I64,
      [I64, Str, Str],
      [sysNumbers().pivot_root, newRoot, putOld],
      newRoot,
    );
  }
  chroot(path: string): void {
    check("chroot", "chroot", I32, [Str], [path], path);
  }
  chdir(path: string): void {
    check("chdir", "chdir", I32, [Str], [path], path);
  }
  fchdir(fd: number): void {
    check("fchdir", "fchdir", I32, [I32], [fd]);
  }
  unshare(flags: number): void {
    check("unshare", "unshare", I32, [I32], [flags]);
  }
  setns(fd: number, nstype: number): void {
    check("setns", "setns", I32, [I32, I32], [fd, nstype]);
  }
  sethostname(name: string): void {
    const b = Buffer.from(name, "utf8");
    check("sethostname", "sethostname", I32, [U8Array, I64], [b, b.length], name);
  }
  setdomainname(name: string): void {
    const b = Buffer.from(name, "utf8");
    check("setdomainname", "setdomainname", I32, [U8Array, I64], [b, b.length], name);
  }
  setresuid(ruid: number, euid: number, suid: number): void {
    check("setresuid", "setresuid", I32, [I32, I32, I32], [ruid, euid, suid]);
  }
  setresgid(rgid: number, egid: number, sgid: number): void {
    check("setresgid", "setresgid", I32, [I32, I32, I32], [rgid, egid, sgid]);
  }
  setgroups(gids: readonly number[]): void {
    const b = Buffer.alloc(Math.max(gids.length, 1) * 4);
    gids.forEach((g, i) => b.writeUInt32LE(g, i * 4));
    check("setgroups", "setgroups", I32, [I64, U8Array], [gids.length, b]);
  }
  capget(): CapabilitySets {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
    const data = Buffer.alloc(24);
    check("capget", "capget", I32, [U8Array, U8Array], [header, data]);
    const mask = (off: number) =>
      BigInt(data.readUInt32LE(off)) | (BigInt(data.readUInt32LE(off + 12)) << 32n);
    return { effective: mask(0), permitted: mask(4), inheritable: mask(8) };
  }
  capset(sets: CapabilitySets): void {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
    const data = Buffer.alloc(24);
    const put = (v: bigint, off: number) => {
      data.writeUInt32LE(Number(v & 0xffffffffn), off);
      data.writeUInt32LE(Number((v >> 32n) & 0xffffffffn), off + 12);
    };
    put(sets.effective, 0);
    put(sets.permitted, 4);
    put(sets.inheritable, 8);
    check("capset", "capset", I32, [U8Array, U8Array], [header, data]);
  }
  prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
    return check(
      "prctl",
      "prctl",
      I32,
      [I32, I64, I64, I64, I64],
      [option, arg2, arg3, arg4, arg5],
    );
  }
  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(soft, 0);
    b.writeBigUInt64LE(hard, 8);
    check("setrlimit", "setrlimit", I32, [I32, U8Array], [resource, b]);
  }
  prlimit(pid: number, resource: number, soft: bigint, hard: bigint): void {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(soft, 0);
    b.writeBigUInt64LE(hard, 8);
    check("prlimit", "prlimit", I32, [I32, I32, U8Array, I64], [pid, resource, b, 0]);
  }
  umask(mask: number): number {
    return callErrno("umask", I32, [I32], [mask]).value;
  }
  mknod(path: string, mode: number, dev: bigint): void {
    check("mknod", "mknod", I32, [Str, I32, I64], [path, mode, Number(dev)], path);
  }
  symlink(target: string, linkPath: string): void {
    check("symlink", "symlink", I32, [Str, Str], [target, linkPath], linkPath);
  }
  mkfifo(path: string, mode: number): void {
    check("mkfifo", "mkfifo", I32, [Str, I32], [path, mode & ~S_IFIFO], path);
  }
  open(path: string, flags: number, mode = 0): number {
    return check("open", "open", I32, [Str, I32, I32], [path, flags, mode], path);
  }
  close(fd: number): void {
    check("close", "close", I32, [I32], [fd]);
  }
  dup2(oldFd: number, newFd: number): number {
    return check("dup2", "dup2", I32, [I32, I32], [oldFd, newFd]);
  }
  dup3(oldFd: number, newFd: number, flags: number): number {
    return check("dup3", "dup3", I32, [I32, I32, I32], [oldFd, newFd, flags]);
  }
  fcntl(fd: number, cmd: number, arg = 0): number {
    return check("fcntl", "fcntl", I32, [I32, I32, I64], [fd, cmd, arg]);
  }
  write(fd: number, data: Buffer): number {
    return check("write", "write", I64, [I32, U8Array, I64], [fd, data, data.length]);
  }
  ioctlSetWinsize(fd: number, rows: number, cols: number): void {
    const ws = Buffer.alloc(8);
    ws.writeUInt16LE(rows, 0);
    ws.writeUInt16LE(cols, 2);
    check("ioctl(TIOCSWINSZ)", "ioctl", I32, [I32, I64, U8Array], [fd, TIOCSWINSZ, ws]);
  }
  ioctlSetCtty(fd: number): void {
    check("ioctl(TIOCSCTTY)", "ioctl", I32, [I32, I64, I64], [fd, TIOCSCTTY, 0]);
  }
  setsid(): number {
    return check("setsid", "setsid", I32, [], []);
  }
  openPty(): Pty {
    const master = check(
      "posix_openpt",
      "posix_openpt",
      I32,
      [I32],
      [O_RDWR | O_NOCTTY | O_CLOEXEC],
      "/dev/ptmx",
    );
    try {
      check("grantpt", "grantpt", I32, [I32], [master]);
      check("unlockpt", "unlockpt", I32, [I32], [master]);
      const buf = Buffer.alloc(128);
      const { value } = callErrno("ptsname_r", I32, [I32, U8Array, I64], [master, buf, buf.length]);
      if (value !== 0) throw new SyscallError("ptsname_r", value);
      return { master, slavePath: buf.subarray(0, buf.indexOf(0)).toString("utf8") };
    } catch (e) {
      callErrno("close", I32, [I32], [master]);
      throw e;
    }
  }
  socket(domain: number, type: number, protocol: number): number {
    return check("socket", "socket", I32, [I32, I32, I32], [domain, type, protocol]);
  }
  connect(fd: number, path: string): void {
    check("connect", "connect", I32, [I32, U8Array, I32], [fd, sockaddrUn(path), 110], path);
  }
  bind(fd: number, path: string): void {
    check("bind", "bind", I32, [I32, U8Array, I32], [fd, sockaddrUn(path), 110], path);
  }
  listen(fd: number, backlog: number): void {
    check("listen", "listen", I32, [I32, I32], [fd, backlog]);
  }
  accept(fd: number): number {
    return check("accept4", "accept4", I32, [I32, I64, I64, I32], [fd, 0, 0, O_CLOEXEC]);
  }
  sendFds(fd: number, fds: readonly number[], data: Buffer): number {
    const payload = data.length ? data : Buffer.from([0]);
    const ctlLen = fds.length ? cmsgSpace(fds.length * 4) : 0;
    const m = buildMsg(payload.length, ctlLen);
    try {
      if (fds.length) {
        m.image.writeBigUInt64LE(BigInt(16 + fds.length * 4), m.ctlOff); // cmsg_len
        m.image.writeInt32LE(SOL_SOCKET, m.ctlOff + 8);
        m.image.writeInt32LE(SCM_RIGHTS, m.ctlOff + 12);
        fds.forEach((f, i) => m.image.writeInt32LE(f, m.ctlOff + 16 + i * 4));
      }
      payload.copy(m.image, m.dataOff);
      writeMem(m.base, m.image);
      return check("sendmsg", "sendmsg", I64, [I32, I64, I32], [fd, m.base, 0]);
    } finally {
      free(m.base);
    }
  }
  peerCredentials(fd: number): PeerCredentials {
    const ucred = Buffer.alloc(12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
    const len = Buffer.alloc(4);
    len.writeUInt32LE(ucred.length, 0);
    check(
      "getsockopt",
      "getsockopt",
      I32,
      [I32, I32, I32, U8Array, U8Array],
      [fd, SOL_SOCKET, SO_PEERCRED, ucred, len],
    );
    return { pid: ucred.readInt32LE(0), uid: ucred.readUInt32LE(4), gid: ucred.readUInt32LE(8) };
  }
  recvFds(fd: number, maxFds: number, maxData: number): ReceivedMessage {
    const ctlLen = cmsgSpace(maxFds * 4);
    const m = buildMsg(maxData, ctlLen);
    try {
      writeMem(m.base, m.image);
      const n = check("recvmsg", "recvmsg", I64, [I32, I64, I32], [fd, m.base, MSG_CMSG_CLOEXEC]);
      const img = readMem(m.base, m.image.length);
      const controlLen = Number(img.readBigUInt64LE(40));
      const fds: number[] = [];
      let off = 0;
      while (off + 16 <= controlLen) {
        const len = Number(img.readBigUInt64LE(m.ctlOff + off));
        if (len < 16) break;
        const level = img.readInt32LE(m.ctlOff + off + 8);
        const type = img.readInt32LE(m.ctlOff + off + 12);
        if (level === SOL_SOCKET && type === SCM_RIGHTS) {
          for (let p = 16; p + 4 <= len; p += 4) fds.push(img.readInt32LE(m.ctlOff + off + p));
        }
        off += Math.ceil(len / 8) * 8;
      }
      return { data: Buffer.from(img.subarray(m.dataOff, m.dataOff + n)), fds };
    } finally {
      free(m.base);
    }
  }
  kill(pid: number, signal: number): void {
    check("kill", "kill", I32, [I32, I32], [pid, signal]);
  }
  waitpid(pid: number, options: number): WaitStatus {
    const st = Buffer.alloc(4);
    const r = check("waitpid", "waitpid", I32, [I32, U8Array, I32], [pid, st, options]);
    if (r === 0) return { pid: 0, status: 0 };
    return decodeWaitStatus(r, st.readInt32LE(0));
  }
  waitid(idtype: number, id: number, options: number): WaitidStatus {
    const info = Buffer.alloc(128);
    check("waitid", "waitid", I32, [I32, I32, U8Array, I32], [idtype, id, info, options]);
    return { pid: info.readInt32LE(16), code: info.readInt32LE(8), status: info.readInt32LE(24) };
  }
  resetSignals(): void {
    for (let sig = 1; sig <= 31; sig++) {
      if (sig === 9 || sig === 19) continue; // SIGKILL, SIGSTOP
      // signal(sig, SIG_DFL); SIG_DFL is a NULL handler
      callErrno("signal", I64, [I32, I64], [sig, 0]);
    }
  }
  exitNow(code: number): never {
    callErrno("_exit", I32, [I32], [code]);
    throw new Error("_exit returned");
  }
  execve(
    path: string,
    argv: readonly string[],
    envp: readonly string[],
    keepFds: readonly number[],
  ): never {
    for (const fd of keepFds) {
      const flags = this.fcntl(fd, F_GETFD);
      if (flags & FD_CLOEXEC) this.fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    const a = cStringTable(argv);
    const e = cStringTable(envp);
    const { errno } = callErrno("execve", I32, [Str, I64, I64], [path, a.table, e.table]);
    for (const b of [...a.blocks, ...e.blocks]) free(b);
    throw new SyscallError("execve", errno, path);
  }
  getpid(): number {
    return callErrno("getpid", I32, [], []).value;
  }
  joinSessionKeyring(name: string): number {
    return check(
      "keyctl(KEYCTL_JOIN_SESSION_KEYRING)",
      "syscall",
      I64,
      [I64, I64, Str],
      [sysNumbers().keyctl, KEYCTL_JOIN_SESSION_KEYRING, name],
    );
  }
  keyctlSetPerm(serial: number, perm: number): void {
    check(
      "keyctl(KEYCTL_SETPERM)",
      "syscall",
      I64,
      [I64, I64, I64, I64],
      [sysNumbers().keyctl, KEYCTL_SETPERM, serial, perm],
    );
  }
  seccompSetFilter(filter: Buffer, flags: number): void {
    if (filter.length % 8 !== 0 || filter.length === 0)
      throw new TypeError("seccomp filter must be a sock_filter array");
    const prog = malloc(16 + filter.length);
    try {
      const image = Buffer.alloc(16 + filter.length);
      image.writeUInt16LE(filter.length / 8, 0);
      image.writeBigUInt64LE(BigInt(prog + 16), 8);
      filter.copy(image, 16);
      writeMem(prog, image);
      if (flags === 0) {
        check(
          "prctl(PR_SET_SECCOMP)",
          "prctl",
          I32,
          [I32, I64, I64, I64, I64],
          [PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0],
        );
      } else {
        check(
          "seccomp",
          "syscall",
          I64,
          [I64, I64, I64, I64],
          [sysNumbers().seccomp, SECCOMP_SET_MODE_FILTER, flags, prog],
        );
      }
    } finally {
      // the kernel copies the program; the block can go
      free(prog);
    }
  }
}

let shared: LibcSyscalls | undefined;
/** The process-wide libc implementation. */
export function libc(): LibcSyscalls {
  return (shared ??= new LibcSyscalls());
}
