// OCI seccomp profile → classic BPF program, following libseccomp/runc semantics closely
// enough that a profile behaves the same as under runc:
// - the native arch is always filtered; other arches fail with the bad-arch action;
// - a rule whose action equals the default action is dropped (runc does the same);
// - conditions on distinct arguments are ANDed in one rule; if an argument index repeats,
//   each condition becomes its own rule (runc's fallback), i.e. they are ORed;
// - for one syscall, an unconditional rule wins over conditional ones, otherwise the first
//   matching conditional rule in profile order decides;
// - syscall names this arch's table does not know are skipped (runc/libseccomp ignore them
//   with a debug log); pass `onUnknownSyscall` to observe them;
// - like runc's -ENOSYS stub, syscalls numbered above the newest one the profile mentions
//   return ENOSYS unless the default action is permissive or already ENOSYS.
import { errInvalidArgument, errNotImplemented } from "@containerd-ts/errdefs";
import {
  archSpec,
  hostNativeArch,
  selectArches,
  X32_SYSCALL_BIT,
  type ArchName,
  type ArchSpec,
  type NativeArch,
} from "./arch.js";
import {
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_MAXINSNS,
  encodeProgram,
  ReverseAssembler,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  seccompDataArgHi,
  seccompDataArgLo,
  type Label,
  type SockFilter,
} from "./bpf.js";
import type {
  LinuxSeccomp,
  LinuxSeccompArg,
  SeccompAction,
  SeccompOperator,
  SeccompValue,
} from "./types.js";

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

const EPERM = 1;
const ENOSYS = 38;
const MAX_SYSCALL_ARGS = 6;

export interface CompileOptions {
  /** Arch whose syscall table the native section uses; defaults to the host's. */
  nativeArch?: NativeArch;
  /**
   * Action for a syscall made under an arch the filter has no section for. Defaults to
   * KILL_PROCESS: libseccomp's KILL_THREAD would leave the rest of the process running.
   */
  badArchAction?: number;
  onUnknownSyscall?: (name: string, arch: ArchName) => void;
}

/** The seccomp return value for an OCI action (errno/trace data defaults to EPERM like runc). */
export function seccompActionValue(action: SeccompAction, errnoRet?: number): number {
  const data = ((errnoRet ?? EPERM) & SECCOMP_RET_DATA) >>> 0;
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET_TRAP;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET_ERRNO | data) >>> 0;
    case "SCMP_ACT_TRACE":
      return (SECCOMP_RET_TRACE | data) >>> 0;
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET_LOG;
    case "SCMP_ACT_NOTIFY":
      throw errNotImplemented("seccomp: SCMP_ACT_NOTIFY is not supported by runc-ts");
    default:
      throw errInvalidArgument(`seccomp: invalid action ${String(action)}`);
  }
}

interface Condition {
  index: number;
  op: SeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

interface Rule {
  action: number;
  /** ANDed; empty means the rule matches unconditionally. */
  conditions: Condition[];
}

const OPERATORS: ReadonlySet<string> = new Set<SeccompOperator>([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);

function toU64(v: SeccompValue | undefined, field: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v === "number" && !Number.isInteger(v)) {
    throw errInvalidArgument(`seccomp: ${field} must be an integer, got ${v}`);
  }
  return BigInt.asUintN(64, BigInt(v));
}

function toCondition(arg: LinuxSeccompArg, where: string): Condition {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= MAX_SYSCALL_ARGS) {
    throw errInvalidArgument(`seccomp: ${where}.index must be 0-5, got ${arg.index}`);
  }
  if (!OPERATORS.has(arg.op)) throw errInvalidArgument(`seccomp: ${where}.op invalid: ${arg.op}`);
  return {
    index: arg.index,
    op: arg.op,
    value: toU64(arg.value, `${where}.value`),
    valueTwo: toU64(arg.valueTwo, `${where}.valueTwo`),
  };
}

/** Rules per syscall name, names in order of first appearance. */
function collectRules(profile: LinuxSeccomp, defaultAction: number): Map<string, Rule[]> {
  const byName = new Map<string, Rule[]>();
  (profile.syscalls ?? []).forEach((sc, i) => {
    const where = `syscalls[${i}]`;
    if (!Array.isArray(sc.names) || sc.names.length === 0) {
      throw errInvalidArgument(`seccomp: ${where}.names must list at least one syscall`);
    }
    const action = seccompActionValue(sc.action, sc.errnoRet);
    const conditions = (sc.args ?? []).map((a, j) => toCondition(a, `${where}.args[${j}]`));
    if (action === defaultAction) return;
    const indexes = conditions.map((c) => c.index);
    const repeated = new Set(indexes).size !== indexes.length;
    const rules: Rule[] = repeated
      ? conditions.map((c) => ({ action, conditions: [c] }))
      : [{ action, conditions }];
    for (const name of sc.names) {
      if (typeof name !== "string" || name === "") {
        throw errInvalidArgument(`seccomp: ${where}.names contains an empty name`);
      }
      const list = byName.get(name) ?? [];
      list.push(...rules);
      byName.set(name, list);
    }
  });
  return byName;
}

interface SyscallGroup {
  nr: number;
  rules: Rule[];
}

function groupsFor(
  arch: ArchSpec,
  byName: Map<string, Rule[]>,
  onUnknown?: CompileOptions["onUnknownSyscall"],
): SyscallGroup[] {
  const byNr = new Map<number, Rule[]>();
  for (const [name, rules] of byName) {
    const nr = arch.syscalls.get(name);
    if (nr === undefined) {
      onUnknown?.(name, arch.name);
      continue;
    }
    const list = byNr.get(nr) ?? [];
    list.push(...rules);
    byNr.set(nr, list);
  }
  return [...byNr].map(([nr, rules]) => {
    const unconditional = rules.find((r) => r.conditions.length === 0);
    return { nr, rules: unconditional ? [unconditional] : rules };
  });
}

function highestMentioned(profile: LinuxSeccomp, arch: ArchSpec): number | undefined {
  let max: number | undefined;
  for (const sc of profile.syscalls ?? []) {
    for (const name of sc.names ?? []) {
      const nr = arch.syscalls.get(name);
      if (nr !== undefined && (max === undefined || nr > max)) max = nr;
    }
  }
  return max;
}

const lo32 = (v: bigint) => Number(v & 0xffffffffn);
const hi32 = (v: bigint) => Number(v >> 32n);

/** Emits code for the whole program; one instance per compile. */
class Emitter {
  private readonly asm = new ReverseAssembler();
  private readonly rets = new Map<number, Label>();

  /** A `ret value` within short-jump reach of the next instruction, reusing one if possible. */
  ret(value: number): Label {
    const cached = this.rets.get(value);
    if (cached !== undefined && this.asm.distanceTo(cached) < 200) return cached;
    const label = this.asm.ret(value);
    this.rets.set(value, label);
    return label;
  }

  /**
   * Test of one condition; control reaches `pass` or `fail`. 64-bit ABIs compare the high
   * word first, then the low word. For 32-bit ABIs the argument's high word is zero, so the
   * high-word comparison is decided here at compile time.
   */
  condition(c: Condition, args64: boolean, pass: Label, fail: Label): Label {
    const a = this.asm;
    const swapped = c.op === "SCMP_CMP_NE" || c.op === "SCMP_CMP_LT" || c.op === "SCMP_CMP_LE";
    const [t, f] = swapped ? [fail, pass] : [pass, fail];
    const loadLo = () => a.loadAbs(seccompDataArgLo(c.index));
    const loadHi = () => a.loadAbs(seccompDataArgHi(c.index));
    switch (c.op) {
      case "SCMP_CMP_EQ":
      case "SCMP_CMP_NE": {
        if (!args64 && hi32(c.value) !== 0) return f;
        a.cond(BPF_JEQ, lo32(c.value), t, f);
        const lo = loadLo();
        if (!args64) return lo;
        a.cond(BPF_JEQ, hi32(c.value), lo, f);
        return loadHi();
      }
      case "SCMP_CMP_GT":
      case "SCMP_CMP_LE":
      case "SCMP_CMP_GE":
      case "SCMP_CMP_LT": {
        // LE = !GT and LT = !GE, hence the swapped targets above
        const strict = c.op === "SCMP_CMP_GT" || c.op === "SCMP_CMP_LE";
        if (!args64 && hi32(c.value) !== 0) return f; // a 32-bit arg is below any such value
        a.cond(strict ? BPF_JGT : BPF_JGE, lo32(c.value), t, f);
        const lo = loadLo();
        if (!args64) return lo;
        const hiEqual = a.cond(BPF_JEQ, hi32(c.value), lo, f);
        a.cond(BPF_JGT, hi32(c.value), t, hiEqual);
        return loadHi();
      }
      case "SCMP_CMP_MASKED_EQ": {
        // value is the mask, valueTwo the datum: (arg & value) == valueTwo
        if (!args64 && hi32(c.valueTwo) !== 0) return f;
        a.cond(BPF_JEQ, lo32(c.valueTwo), t, f);
        a.and(lo32(c.value));
        const lo = loadLo();
        if (!args64) return lo;
        a.cond(BPF_JEQ, hi32(c.valueTwo), lo, f);
        a.and(hi32(c.value));
        return loadHi();
      }
    }
  }

  /** Rule checks for one syscall, falling through to the default action. */
  body(group: SyscallGroup, args64: boolean, defaultAction: number): Label {
    let next = this.ret(defaultAction);
    for (const rule of [...group.rules].reverse()) {
      let pass = this.ret(rule.action);
      for (const c of [...rule.conditions].reverse()) pass = this.condition(c, args64, pass, next);
      next = pass;
    }
    return next;
  }

  section(
    arch: ArchSpec,
    groups: SyscallGroup[],
    defaultAction: number,
    enosysAbove: number | undefined,
    x32: { target: Label } | undefined,
  ): Label {
    const a = this.asm;
    const targets = new Map<SyscallGroup, Label>();
    for (const g of [...groups].reverse()) {
      if (g.rules.length === 1 && g.rules[0]!.conditions.length === 0) continue;
      targets.set(g, this.body(g, arch.args64, defaultAction));
    }
    let next = a.ret(defaultAction);
    this.rets.set(defaultAction, next);
    for (const g of [...groups].reverse()) {
      const target = targets.get(g) ?? this.ret(g.rules[0]!.action);
      next = a.cond(BPF_JEQ, g.nr, target, next);
    }
    if (enosysAbove !== undefined) {
      next = a.cond(
        BPF_JGT,
        enosysAbove,
        this.ret(seccompActionValue("SCMP_ACT_ERRNO", ENOSYS)),
        next,
      );
    }
    if (x32) {
      const body = next;
      next = a.cond(BPF_JGE, X32_SYSCALL_BIT, x32.target, body);
      // nr -1 is what a ptrace tracer leaves for a skipped syscall: not an x32 call
      next = a.cond(BPF_JEQ, 0xffffffff, body, next);
    }
    return a.loadAbs(SECCOMP_DATA_NR);
  }

  dispatch(sections: { auditArch: number; start: Label }[], badArch: number): void {
    let next = this.asm.ret(badArch);
    for (const s of [...sections].reverse())
      next = this.asm.cond(BPF_JEQ, s.auditArch, s.start, next);
    this.asm.loadAbs(SECCOMP_DATA_ARCH);
  }

  program(): SockFilter[] {
    return this.asm.program();
  }
}

function wantsEnosysStub(profile: LinuxSeccomp): boolean {
  const d = profile.defaultAction;
  if (d === "SCMP_ACT_ALLOW" || d === "SCMP_ACT_LOG" || d === "SCMP_ACT_TRACE") return false;
  return !(profile.defaultErrnoRet !== undefined && profile.defaultErrnoRet === ENOSYS);
}

/** The filter as instructions (see compileSeccomp for the byte form). */
export function compileSeccompProgram(
  profile: LinuxSeccomp,
  opts: CompileOptions = {},
): SockFilter[] {
  if (!profile || typeof profile !== "object") throw errInvalidArgument("seccomp: profile missing");
  const defaultAction = seccompActionValue(profile.defaultAction, profile.defaultErrnoRet);
  const badArch = (opts.badArchAction ?? SECCOMP_RET_KILL_PROCESS) >>> 0;
  const byName = collectRules(profile, defaultAction);
  const arches = selectArches(opts.nativeArch ?? hostNativeArch(), profile.architectures).map(
    archSpec,
  );
  const stub = wantsEnosysStub(profile);

  const e = new Emitter();
  const starts = new Map<ArchName, Label>();
  // Sections are emitted back to front. x32 shares x86_64's audit arch and is reached from
  // inside the x86_64 section, so it must be placed (emitted) first.
  const emitOrder = [
    ...arches.filter((a) => a.name === "x32"),
    ...arches.filter((a) => a.name !== "x32").reverse(),
  ];
  for (const arch of emitOrder) {
    const x32 =
      arch.name === "x86_64" ? { target: starts.get("x32") ?? e.ret(badArch) } : undefined;
    const enosysAbove = stub ? highestMentioned(profile, arch) : undefined;
    const groups = groupsFor(arch, byName, opts.onUnknownSyscall);
    starts.set(arch.name, e.section(arch, groups, defaultAction, enosysAbove, x32));
  }
  e.dispatch(
    arches
      .filter((a) => a.name !== "x32")
      .map((a) => ({ auditArch: a.auditArch, start: starts.get(a.name)! })),
    badArch,
  );
  const program = e.program();
  if (program.length > BPF_MAXINSNS) {
    throw errInvalidArgument(
      `seccomp: filter has ${program.length} instructions, kernel limit is ${BPF_MAXINSNS}`,
    );
  }
  return program;
}

/** The filter as the sock_filter array the kernel takes (8 bytes per instruction, LE). */
export function compileSeccomp(profile: LinuxSeccomp, opts: CompileOptions = {}): Buffer {
  return encodeProgram(compileSeccompProgram(profile, opts));
}
