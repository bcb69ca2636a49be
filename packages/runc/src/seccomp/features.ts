// What `runc features` reports under "seccomp" for this implementation.
import type { SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from "./types.js";

/** Every action the compiler accepts (SCMP_ACT_NOTIFY is refused). */
export const SUPPORTED_SECCOMP_ACTIONS: readonly SeccompAction[] = [
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_LOG",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_TRAP",
];

export const SUPPORTED_SECCOMP_OPERATORS: readonly SeccompOperator[] = [
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_LE",
  "SCMP_CMP_LT",
  "SCMP_CMP_MASKED_EQ",
  "SCMP_CMP_NE",
];

/** Arches with a section of their own; other known arch names are accepted and fail closed. */
export const FILTERED_SECCOMP_ARCHES: readonly SeccompArch[] = [
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
];

export const SUPPORTED_SECCOMP_FLAGS: readonly SeccompFlag[] = [
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];
