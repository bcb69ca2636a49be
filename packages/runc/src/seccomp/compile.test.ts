import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  buildSockFprog,
  compileSeccomp,
  decodeProgram,
  seccompFilterFlags,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  syscallNames,
  syscallNumber,
  X32_SYSCALL_BIT,
  type CompileOptions,
  type LinuxSeccomp,
  type SeccompOperator,
  type SockFilter,
} from "./index.js";

// A tiny classic-BPF interpreter covering what seccomp filters may use, strict about the
// things the kernel's checker rejects (out-of-range jumps/loads, falling off the end).
function runFilter(prog: SockFilter[], data: Buffer): number {
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps <= prog.length; steps++) {
    const insn = prog[pc];
    assert.ok(insn, `pc ${pc} ran off the end of the program`);
    const next = pc + 1;
    switch (insn.code) {
      case 0x20: // ld w abs
        assert.ok(insn.k % 4 === 0 && insn.k + 4 <= data.length, `bad load offset ${insn.k}`);
        a = data.readUInt32LE(insn.k);
        pc = next;
        break;
      case 0x54: // alu and k
        a = (a & insn.k) >>> 0;
        pc = next;
        break;
      case 0x05: // ja
        pc = next + insn.k;
        break;
      case 0x15:
      case 0x25:
      case 0x35:
      case 0x45: {
        const k = insn.k >>> 0;
        const taken =
          insn.code === 0x15
            ? a === k
            : insn.code === 0x25
              ? a > k
              : insn.code === 0x35
                ? a >= k
                : (a & k) !== 0;
        pc = next + (taken ? insn.jt : insn.jf);
        break;
      }
      case 0x06:
        return insn.k >>> 0;
      default:
        assert.fail(`unexpected opcode 0x${insn.code.toString(16)} at ${pc}`);
    }
  }
  return assert.fail("program did not terminate");
}

function seccompData(nr: number, arch: number, args: bigint[] = []): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(nr >>> 0, 0);
  b.writeUInt32LE(arch >>> 0, 4);
  b.writeBigUInt64LE(0x401000n, 8);
  args.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, v), 16 + 8 * i));
  return b;
}

const X86_64: CompileOptions = { nativeArch: "x86_64" };

function evaluator(profile: LinuxSeccomp, opts: CompileOptions = X86_64) {
  const prog = decodeProgram(compileSeccomp(profile, opts));
  return (name: string | number, args: bigint[] = [], arch = AUDIT_ARCH_X86_64) => {
    const nr = typeof name === "number" ? name : syscallNumber(name, "x86_64")!;
    return runFilter(prog, seccompData(nr, arch, args));
  };
}

const ERRNO = (e: number) => (SECCOMP_RET_ERRNO | e) >>> 0;
const EPERM = 1;
const ENOSYS = 38;

test("default allow with an errno rule", () => {
  const run = evaluator({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir", "rmdir"], action: "SCMP_ACT_ERRNO" }],
  });
  assert.equal(run("mkdir"), ERRNO(EPERM));
  assert.equal(run("rmdir"), ERRNO(EPERM));
  assert.equal(run("read"), SECCOMP_RET_ALLOW);
  assert.equal(run(5000), SECCOMP_RET_ALLOW, "no ENOSYS stub when the default allows");
});

test("every action maps to its seccomp return value", () => {
  const run = evaluator({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_KILL" },
      { names: ["write"], action: "SCMP_ACT_KILL_PROCESS" },
      { names: ["open"], action: "SCMP_ACT_KILL_THREAD" },
      { names: ["close"], action: "SCMP_ACT_TRAP" },
      { names: ["stat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
      { names: ["fstat"], action: "SCMP_ACT_TRACE", errnoRet: 7 },
      { names: ["lstat"], action: "SCMP_ACT_TRACE" },
      { names: ["poll"], action: "SCMP_ACT_LOG" },
    ],
  });
  assert.equal(run("read"), SECCOMP_RET_KILL_THREAD);
  assert.equal(run("write"), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run("open"), SECCOMP_RET_KILL_THREAD);
  assert.equal(run("close"), SECCOMP_RET_TRAP);
  assert.equal(run("stat"), ERRNO(13));
  assert.equal(run("fstat"), (SECCOMP_RET_TRACE | 7) >>> 0);
  assert.equal(run("lstat"), (SECCOMP_RET_TRACE | EPERM) >>> 0);
  assert.equal(run("poll"), SECCOMP_RET_LOG);
});

test("default errno with errnoRet, allow list, ENOSYS for newer syscalls", () => {
  const run = evaluator({
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 1,
    syscalls: [{ names: ["read", "write", "exit_group"], action: "SCMP_ACT_ALLOW" }],
  });
  assert.equal(run("read"), SECCOMP_RET_ALLOW);
  assert.equal(run("exit_group"), SECCOMP_RET_ALLOW);
  assert.equal(run("open"), ERRNO(1), "below the newest listed syscall: default action");
  assert.equal(run(syscallNumber("exit_group")! + 1), ERRNO(ENOSYS), "above it: ENOSYS like runc");
});

test("no ENOSYS stub when the default already returns ENOSYS or logs", () => {
  const listed = { names: ["read", "close"], action: "SCMP_ACT_ALLOW" as const };
  const enosys = evaluator({
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: ENOSYS,
    syscalls: [listed],
  });
  assert.equal(enosys(400), ERRNO(ENOSYS));
  const log = evaluator({ defaultAction: "SCMP_ACT_LOG", syscalls: [listed] });
  assert.equal(log(400), SECCOMP_RET_LOG);
  const kill = evaluator({ defaultAction: "SCMP_ACT_KILL_PROCESS", syscalls: [listed] });
  assert.equal(kill(1), SECCOMP_RET_KILL_PROCESS);
  assert.equal(kill(400), ERRNO(ENOSYS));
});

test("architecture check: foreign arch gets the bad-arch action", () => {
  const profile: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
  };
  const run = evaluator(profile);
  assert.equal(run("read", [], AUDIT_ARCH_I386), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run("read", [], AUDIT_ARCH_AARCH64), SECCOMP_RET_KILL_PROCESS);
  const custom = evaluator(profile, {
    nativeArch: "x86_64",
    badArchAction: SECCOMP_RET_KILL_THREAD,
  });
  assert.equal(custom("read", [], AUDIT_ARCH_I386), SECCOMP_RET_KILL_THREAD);
});

test("x32 syscalls are refused unless SCMP_ARCH_X32 is listed", () => {
  const base: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
  };
  const x32mkdir = syscallNumber("mkdir", "x32")!;
  assert.equal(x32mkdir, X32_SYSCALL_BIT + 83);
  assert.equal(evaluator(base)(x32mkdir), SECCOMP_RET_KILL_PROCESS);
  const withX32 = evaluator({ ...base, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"] });
  assert.equal(withX32(x32mkdir), ERRNO(EPERM));
  assert.equal(withX32(syscallNumber("read", "x32")!), SECCOMP_RET_ALLOW);
  assert.equal(withX32("mkdir"), ERRNO(EPERM));
  assert.equal(evaluator(base)(0xffffffff), SECCOMP_RET_ALLOW, "nr -1 (tracer skip) is not x32");
});

test("i386 section uses the i386 numbers and 32-bit argument words", () => {
  const run = evaluator({
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [
      { names: ["mkdir"], action: "SCMP_ACT_ERRNO" },
      {
        names: ["kill"],
        action: "SCMP_ACT_ERRNO",
        args: [{ index: 1, value: 9, op: "SCMP_CMP_EQ" }],
      },
    ],
  });
  const i386 = (name: string, args: bigint[] = []) =>
    run(syscallNumber(name, "x86")!, args, AUDIT_ARCH_I386);
  assert.equal(syscallNumber("mkdir", "x86"), 39);
  assert.equal(i386("mkdir"), ERRNO(EPERM));
  assert.equal(i386("read"), SECCOMP_RET_ALLOW);
  assert.equal(i386("kill", [1n, 9n]), ERRNO(EPERM));
  assert.equal(i386("kill", [1n, 15n]), SECCOMP_RET_ALLOW);
  // 83 is mkdir on x86_64 but symlink on i386: sections must not mix numbers
  assert.equal(run(83, [], AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);
});

test("aarch64 native section", () => {
  const run = evaluator(
    {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdirat", "open"], action: "SCMP_ACT_ERRNO" }],
    },
    { nativeArch: "aarch64" },
  );
  assert.equal(run(syscallNumber("mkdirat", "aarch64")!, [], AUDIT_ARCH_AARCH64), ERRNO(EPERM));
  assert.equal(run(syscallNumber("read", "aarch64")!, [], AUDIT_ARCH_AARCH64), SECCOMP_RET_ALLOW);
  assert.equal(run(0, [], AUDIT_ARCH_X86_64), SECCOMP_RET_KILL_PROCESS);
});

// Reference semantics for one comparison on the full 64-bit value.
function reference(op: SeccompOperator, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case "SCMP_CMP_EQ":
      return arg === value;
    case "SCMP_CMP_NE":
      return arg !== value;
    case "SCMP_CMP_LT":
      return arg < value;
    case "SCMP_CMP_LE":
      return arg <= value;
    case "SCMP_CMP_GT":
      return arg > value;
    case "SCMP_CMP_GE":
      return arg >= value;
    case "SCMP_CMP_MASKED_EQ":
      return (arg & value) === valueTwo;
  }
}

test("64-bit argument comparisons agree with a reference on hi/lo edge cases", () => {
  const ops: SeccompOperator[] = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_GT",
    "SCMP_CMP_GE",
    "SCMP_CMP_MASKED_EQ",
  ];
  const interesting = [
    0n,
    1n,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x100000000n,
    0x100000001n,
    0x1ffffffffn,
    0xdeadbeef_00000005n,
    0xdeadbeef_00000006n,
    0xdeadbeee_ffffffffn,
    0xffffffff_ffffffffn,
  ];
  for (const op of ops) {
    for (const value of interesting) {
      const valueTwo = op === "SCMP_CMP_MASKED_EQ" ? value & 0xff00ff00_ff00ff00n : 0n;
      const run = evaluator({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 3, value, valueTwo, op }] },
        ],
      });
      for (const arg of [...interesting, value & 0xff00ff00_ff00ff00n]) {
        const want = reference(op, arg, value, valueTwo) ? ERRNO(EPERM) : SECCOMP_RET_ALLOW;
        assert.equal(run("ioctl", [0n, 0n, 0n, arg]), want, `${op} arg=${arg} value=${value}`);
      }
    }
  }
});

test("conditions on distinct args are ANDed, a repeated index makes them ORed", () => {
  const and = evaluator({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      {
        names: ["socket"],
        action: "SCMP_ACT_ERRNO",
        args: [
          { index: 0, value: 16, op: "SCMP_CMP_EQ" },
          { index: 2, value: 9, op: "SCMP_CMP_EQ" },
        ],
      },
    ],
  });
  assert.equal(and("socket", [16n, 3n, 9n]), ERRNO(EPERM));
  assert.equal(and("socket", [16n, 3n, 0n]), SECCOMP_RET_ALLOW);
  assert.equal(and("socket", [2n, 3n, 9n]), SECCOMP_RET_ALLOW);

  const or = evaluator({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["personality"],
        action: "SCMP_ACT_ALLOW",
        args: [
          { index: 0, value: 0, op: "SCMP_CMP_EQ" },
          { index: 0, value: 8, op: "SCMP_CMP_EQ" },
          { index: 0, value: 0xffffffff, op: "SCMP_CMP_EQ" },
        ],
      },
    ],
  });
  assert.equal(or("personality", [0n]), SECCOMP_RET_ALLOW);
  assert.equal(or("personality", [8n]), SECCOMP_RET_ALLOW);
  assert.equal(or("personality", [0xffffffffn]), SECCOMP_RET_ALLOW);
  assert.equal(or("personality", [4n]), ERRNO(EPERM));
});

test("rules for one syscall: first conditional match wins, unconditional overrides", () => {
  const run = evaluator({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["clone"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 0x7e020000, op: "SCMP_CMP_MASKED_EQ", valueTwo: 0 }],
      },
      {
        names: ["clone"],
        action: "SCMP_ACT_TRAP",
        args: [{ index: 1, value: 5, op: "SCMP_CMP_EQ" }],
      },
      {
        names: ["read"],
        action: "SCMP_ACT_TRAP",
        args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }],
      },
      { names: ["read"], action: "SCMP_ACT_ALLOW" },
      { names: ["write"], action: "SCMP_ACT_ERRNO" }, // same as default: dropped
    ],
  });
  assert.equal(run("clone", [0x11n, 5n]), SECCOMP_RET_ALLOW);
  assert.equal(run("clone", [0x10000000n, 5n]), SECCOMP_RET_TRAP);
  assert.equal(run("clone", [0x10000000n, 6n]), ERRNO(EPERM));
  assert.equal(run("read", [0n]), SECCOMP_RET_ALLOW);
  assert.equal(run("write"), ERRNO(EPERM));
});

test("unknown syscall names are skipped and reported", () => {
  const unknown: string[] = [];
  const run = evaluator(
    {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["no_such_syscall", "mkdir"], action: "SCMP_ACT_ERRNO" }],
    },
    { nativeArch: "x86_64", onUnknownSyscall: (name, arch) => unknown.push(`${arch}:${name}`) },
  );
  assert.deepEqual(unknown, ["x86_64:no_such_syscall"]);
  assert.equal(run("mkdir"), ERRNO(EPERM));
});

test("large profiles stay correct across long jumps", () => {
  // every x86_64 syscall except a few, half of them behind an argument condition
  const names = syscallNames("x86_64").filter((n) => !["mkdir", "mount", "reboot"].includes(n));
  const profile: LinuxSeccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [
      { names: names.filter((_, i) => i % 2 === 0), action: "SCMP_ACT_ALLOW" },
      ...names
        .filter((_, i) => i % 2 === 1)
        .map((n) => ({
          names: [n],
          action: "SCMP_ACT_ALLOW" as const,
          args: [{ index: 0, value: 0x1_0000_0000, op: "SCMP_CMP_LT" as const }],
        })),
    ],
  };
  const prog = decodeProgram(compileSeccomp(profile, X86_64));
  assert.ok(prog.length > 1024, `long program expected, got ${prog.length}`);
  assert.ok(prog.length <= 4096);
  const run = (nr: number, args: bigint[] = [], arch = AUDIT_ARCH_X86_64) =>
    runFilter(prog, seccompData(nr, arch, args));
  names.forEach((n, i) => {
    const conditional = i % 2 === 1;
    const nr = syscallNumber(n)!;
    assert.equal(run(nr, [5n]), SECCOMP_RET_ALLOW, n);
    assert.equal(run(nr, [0x1_0000_0000n]), conditional ? ERRNO(EPERM) : SECCOMP_RET_ALLOW, n);
    const x32 = syscallNumber(n, "x32");
    if (x32 !== undefined) assert.equal(run(x32, [5n]), SECCOMP_RET_ALLOW, `x32 ${n}`);
    const i386 = syscallNumber(n, "x86");
    if (i386 !== undefined) {
      assert.equal(run(i386, [5n], AUDIT_ARCH_I386), SECCOMP_RET_ALLOW, `i386 ${n}`);
    }
  });
  assert.equal(run(syscallNumber("mkdir")!), ERRNO(EPERM));
  assert.equal(run(syscallNumber("reboot", "x86")!, [], AUDIT_ARCH_I386), ERRNO(EPERM));
  assert.equal(run(syscallNumber("mount", "x32")!), ERRNO(EPERM));
});

test("invalid profiles fail with InvalidArgument, NOTIFY with NotImplemented", () => {
  const kind = (p: unknown) => {
    try {
      compileSeccomp(p as LinuxSeccomp, X86_64);
    } catch (err) {
      return kindOf(err);
    }
    return undefined;
  };
  assert.equal(kind({ defaultAction: "SCMP_ACT_BOGUS" }), ErrorKind.InvalidArgument);
  assert.equal(kind({ defaultAction: "SCMP_ACT_NOTIFY" }), ErrorKind.NotImplemented);
  const rule = (extra: object) => ({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", ...extra }],
  });
  assert.equal(kind(rule({ action: "SCMP_ACT_NOTIFY" })), ErrorKind.NotImplemented);
  assert.equal(
    kind(rule({ args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }] })),
    ErrorKind.InvalidArgument,
  );
  assert.equal(
    kind(rule({ args: [{ index: 0, value: 0, op: "SCMP_CMP_XX" }] })),
    ErrorKind.InvalidArgument,
  );
  assert.equal(kind(rule({ names: [] })), ErrorKind.InvalidArgument);
  assert.equal(
    kind({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_Z80"] }),
    ErrorKind.InvalidArgument,
  );
});

test("encoding, flags and sock_fprog layout", () => {
  const bytes = compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW" }, X86_64);
  assert.equal(bytes.length % 8, 0);
  const prog = decodeProgram(bytes);
  // ld arch; jeq x86_64; ret badarch; ld nr; ret allow (foreign arches, then native)
  assert.deepEqual(prog[0], { code: 0x20, jt: 0, jf: 0, k: 4 });
  assert.equal(bytes.readUInt16LE(0), 0x20);
  assert.equal(bytes.readUInt32LE(4), 4);
  assert.equal(runFilter(prog, seccompData(0, AUDIT_ARCH_X86_64)), SECCOMP_RET_ALLOW);

  assert.equal(
    seccompFilterFlags({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    }),
    6,
  );
  const fprog = buildSockFprog(bytes, 0x7f0011223344n);
  assert.equal(fprog.length, 16);
  assert.equal(fprog.readUInt16LE(0), prog.length);
  assert.equal(fprog.readBigUInt64LE(8), 0x7f0011223344n);
});
