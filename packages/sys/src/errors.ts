import { constants } from "node:os";

/** errno number → symbolic code ("EPERM"), built once from Node's own table. */
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Several names share a number (EWOULDBLOCK/EAGAIN, EDEADLOCK/EDEADLK): keep the first, canonical one.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

export function errnoCode(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

export function errnoNumber(code: string): number {
  const n = (constants.errno as Record<string, number>)[code];
  if (n === undefined) throw new TypeError(`unknown errno code ${code}`);
  return n;
}

const messages: Record<string, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ESRCH: "no such process",
  EINTR: "interrupted system call",
  EIO: "input/output error",
  EBADF: "bad file descriptor",
  ECHILD: "no child processes",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "cannot allocate memory",
  EACCES: "permission denied",
  EFAULT: "bad address",
  EBUSY: "device or resource busy",
  EEXIST: "file exists",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EINVAL: "invalid argument",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  ENOSYS: "function not implemented",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  ECONNREFUSED: "connection refused",
  ENOTSOCK: "socket operation on non-socket",
};

/**
 * An errno from a libc call. It names the call, the errno code and, when the call took one,
 * the path, so a message reads like Go's `mount /proc: operation not permitted`.
 */
export class SyscallError extends Error {
  override readonly name = "SyscallError";
  readonly code: string;
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly path?: string,
  ) {
    const code = errnoCode(errno);
    const text = messages[code] ?? code.toLowerCase();
    super(path !== undefined ? `${syscall} ${path}: ${text}` : `${syscall}: ${text}`);
    this.code = code;
  }
}

export function isSyscallError(e: unknown, code?: string): e is SyscallError {
  return e instanceof SyscallError && (code === undefined || e.code === code);
}
