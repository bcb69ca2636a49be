// Seccomp: compile an OCI profile to a classic BPF program. Installing it (prctl/seccomp(2))
// is the init's job through packages/sys; this module only provides the bytes and constants.
import { errInvalidArgument } from "@containerd-ts/errdefs";
import { SOCK_FILTER_SIZE } from "./bpf.js";
import type { LinuxSeccomp } from "./types.js";

export * from "./types.js";
export {
  compileSeccomp,
  compileSeccompProgram,
  seccompActionValue,
  type CompileOptions,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_USER_NOTIF,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_LOG,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_DATA,
} from "./compile.js";
export {
  AUDIT_ARCH_X86_64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  X32_SYSCALL_BIT,
  syscallNumber,
  syscallNames,
  hostNativeArch,
  type ArchName,
  type NativeArch,
} from "./arch.js";
export {
  decodeProgram,
  encodeProgram,
  SOCK_FILTER_SIZE,
  BPF_MAXINSNS,
  type SockFilter,
} from "./bpf.js";

/** seccomp(2) operations. */
export const SECCOMP_SET_MODE_STRICT = 0;
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_GET_NOTIF_SIZES = 3;

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags. */
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

/** prctl(2) options for the fallback path (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)). */
export const PR_SET_SECCOMP = 22;
export const PR_SET_NO_NEW_PRIVS = 38;
export const SECCOMP_MODE_FILTER = 2;

/** seccomp(2) syscall numbers, for callers that invoke it through syscall(2). */
export const SYS_SECCOMP = { x86_64: 317, aarch64: 277 } as const;

const FLAG_VALUES: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/** The flags argument for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) from `profile.flags`. */
export function seccompFilterFlags(profile: LinuxSeccomp): number {
  let flags = 0;
  for (const f of profile.flags ?? []) {
    const v = FLAG_VALUES[f];
    if (v === undefined) throw errInvalidArgument(`seccomp: unknown flag ${f}`);
    flags |= v;
  }
  return flags;
}

/**
 * struct sock_fprog on 64-bit Linux: `unsigned short len` at 0, 6 bytes padding, then
 * `struct sock_filter *filter` at 8; 16 bytes in all.
 */
export const SOCK_FPROG_LAYOUT = { size: 16, lenOffset: 0, filterOffset: 8 } as const;

/** Number of instructions in a compiled program (the sock_fprog `len`). */
export function programLength(program: Buffer): number {
  if (program.length % SOCK_FILTER_SIZE !== 0)
    throw errInvalidArgument("seccomp: truncated program");
  return program.length / SOCK_FILTER_SIZE;
}

/** A struct sock_fprog pointing at `filterAddress`, where the caller placed the program bytes. */
export function buildSockFprog(program: Buffer, filterAddress: bigint): Buffer {
  const buf = Buffer.alloc(SOCK_FPROG_LAYOUT.size);
  buf.writeUInt16LE(programLength(program), SOCK_FPROG_LAYOUT.lenOffset);
  buf.writeBigUInt64LE(filterAddress, SOCK_FPROG_LAYOUT.filterOffset);
  return buf;
}

export {
  FILTERED_SECCOMP_ARCHES,
  SUPPORTED_SECCOMP_ACTIONS,
  SUPPORTED_SECCOMP_FLAGS,
  SUPPORTED_SECCOMP_OPERATORS,
} from "./features.js";
