import { libc, type Syscalls } from "@containerd-ts/sys";

/** The libc calls the shim makes; tests pass a fake. */
export type ShimSys = Pick<
  Syscalls,
  | "prctl"
  | "waitpid"
  | "recvFds"
  | "ioctlSetWinsize"
  | "mount"
  | "umount2"
  | "close"
  | "fcntl"
  | "kill"
  | "mkfifo"
>;

export function realSys(): ShimSys {
  return libc();
}
