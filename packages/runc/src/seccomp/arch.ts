// The architectures the compiler can build sections for, and how profile names map onto them.
import { errInvalidArgument } from "@containerd-ts/errdefs";
import type { SeccompArch } from "./types.js";
import { SYSCALLS_AARCH64, SYSCALLS_X32, SYSCALLS_X86, SYSCALLS_X86_64 } from "./syscall-tables.js";

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;
/** x32 syscalls arrive with AUDIT_ARCH_X86_64 and this bit set in the syscall number. */
export const X32_SYSCALL_BIT = 0x40000000;

export type ArchName = "x86_64" | "x86" | "x32" | "aarch64";
export type NativeArch = "x86_64" | "aarch64";

export interface ArchSpec {
  name: ArchName;
  auditArch: number;
  /** Whether syscall arguments are 64 bits wide (32-bit ABIs compare the low word only). */
  args64: boolean;
  syscalls: ReadonlyMap<string, number>;
}

const tableCache = new Map<ArchName, ReadonlyMap<string, number>>();

function table(name: ArchName): ReadonlyMap<string, number> {
  let t = tableCache.get(name);
  if (!t) {
    const src = {
      x86_64: SYSCALLS_X86_64,
      x86: SYSCALLS_X86,
      x32: SYSCALLS_X32,
      aarch64: SYSCALLS_AARCH64,
    }[name];
    const base = name === "x32" ? X32_SYSCALL_BIT : 0;
    const m = new Map<string, number>();
    for (const entry of src.split(" ")) {
      const sep = entry.lastIndexOf(":");
      m.set(entry.slice(0, sep), base + Number(entry.slice(sep + 1)));
    }
    t = m;
    tableCache.set(name, t);
  }
  return t;
}

export function archSpec(name: ArchName): ArchSpec {
  switch (name) {
    case "x86_64":
      return { name, auditArch: AUDIT_ARCH_X86_64, args64: true, syscalls: table(name) };
    case "x32":
      return { name, auditArch: AUDIT_ARCH_X86_64, args64: true, syscalls: table(name) };
    case "x86":
      return { name, auditArch: AUDIT_ARCH_I386, args64: false, syscalls: table(name) };
    case "aarch64":
      return { name, auditArch: AUDIT_ARCH_AARCH64, args64: true, syscalls: table(name) };
  }
}

/** Syscall number of `name` on `arch`, or undefined when the table does not know it. */
export function syscallNumber(name: string, arch: ArchName = "x86_64"): number | undefined {
  return table(arch).get(name);
}

/** Every syscall name the table for `arch` knows, in syscall-number order. */
export function syscallNames(arch: ArchName = "x86_64"): string[] {
  return [...table(arch)].sort((a, b) => a[1] - b[1]).map(([name]) => name);
}

export function hostNativeArch(): NativeArch {
  if (process.arch === "x64") return "x86_64";
  if (process.arch === "arm64") return "aarch64";
  throw errInvalidArgument(`seccomp: unsupported host architecture ${process.arch}`);
}

const KNOWN_ARCHES: ReadonlySet<string> = new Set<SeccompArch>([
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
]);

/**
 * The sections to build, native first. The native arch is always filtered (as libseccomp
 * does). Listed arches that this kernel could run alongside the native one get a section if
 * we have their table; everything else (arm on aarch64, foreign arches) hits the bad-arch
 * action, which is the safe outcome.
 */
export function selectArches(native: NativeArch, listed: readonly string[] = []): ArchName[] {
  for (const a of listed) {
    if (!KNOWN_ARCHES.has(a)) throw errInvalidArgument(`seccomp: unknown architecture ${a}`);
  }
  const out: ArchName[] = [native];
  if (native === "x86_64") {
    if (listed.includes("SCMP_ARCH_X86")) out.push("x86");
    if (listed.includes("SCMP_ARCH_X32")) out.push("x32");
  }
  return out;
}
