// Classic BPF as seccomp uses it: opcodes, the 8-byte sock_filter encoding, and an assembler
// that emits a program back to front so every (forward-only) jump target is already placed.

export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** Kernel limit on the number of instructions in one filter. */
export const BPF_MAXINSNS = 4096;
export const SOCK_FILTER_SIZE = 8;

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Offsets inside struct seccomp_data (little-endian hosts: low word of each arg first). */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const seccompDataArgLo = (index: number) => 16 + 8 * index;
export const seccompDataArgHi = (index: number) => 16 + 8 * index + 4;

/** A placed instruction, identified by how many instructions follow it plus one. */
export type Label = number;

const MAX_SHORT_JUMP = 255;

/**
 * Builds a program from its last instruction to its first. Conditional jumps carry 8-bit
 * offsets, so a target further than 255 instructions away is reached through an inserted
 * `ja` trampoline; callers always name both branch targets, so inserted instructions never
 * change what a fall-through means.
 */
export class ReverseAssembler {
  private readonly reversed: SockFilter[] = [];

  /** Label of the most recently emitted instruction (the one that will follow the next). */
  get next(): Label {
    return this.reversed.length;
  }

  get length(): number {
    return this.reversed.length;
  }

  private push(insn: SockFilter): Label {
    this.reversed.push(insn);
    return this.reversed.length;
  }

  /** Offset from an instruction about to be emitted to an already placed one. */
  distanceTo(target: Label): number {
    if (target < 1 || target > this.reversed.length) {
      throw new Error(`bpf: jump target ${target} is not placed yet`);
    }
    return this.reversed.length - target;
  }

  ret(k: number): Label {
    return this.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: k >>> 0 });
  }

  loadAbs(offset: number): Label {
    return this.push({ code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: offset });
  }

  and(k: number): Label {
    return this.push({ code: BPF_ALU | BPF_AND | BPF_K, jt: 0, jf: 0, k: k >>> 0 });
  }

  jump(target: Label): Label {
    return this.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: this.distanceTo(target) });
  }

  /** `if (A <op> k) goto ifTrue else goto ifFalse`, op one of BPF_JEQ/JGT/JGE/JSET. */
  cond(op: number, k: number, ifTrue: Label, ifFalse: Label): Label {
    if (this.distanceTo(ifFalse) > MAX_SHORT_JUMP) ifFalse = this.jump(ifFalse);
    if (this.distanceTo(ifTrue) > MAX_SHORT_JUMP) {
      ifTrue = this.jump(ifTrue);
      // the trampoline just inserted may have pushed the other target out of reach
      if (this.distanceTo(ifFalse) > MAX_SHORT_JUMP) ifFalse = this.jump(ifFalse);
    }
    return this.push({
      code: BPF_JMP | op | BPF_K,
      jt: this.distanceTo(ifTrue),
      jf: this.distanceTo(ifFalse),
      k: k >>> 0,
    });
  }

  /** The program in execution order. */
  program(): SockFilter[] {
    return [...this.reversed].reverse();
  }
}

export function encodeProgram(program: SockFilter[]): Buffer {
  const buf = Buffer.alloc(program.length * SOCK_FILTER_SIZE);
  program.forEach((insn, i) => {
    const o = i * SOCK_FILTER_SIZE;
    buf.writeUInt16LE(insn.code, o);
    buf.writeUInt8(insn.jt, o + 2);
    buf.writeUInt8(insn.jf, o + 3);
    buf.writeUInt32LE(insn.k >>> 0, o + 4);
  });
  return buf;
}

export function decodeProgram(buf: Buffer): SockFilter[] {
  if (buf.length % SOCK_FILTER_SIZE !== 0) throw new Error("bpf: truncated program");
  const out: SockFilter[] = [];
  for (let o = 0; o < buf.length; o += SOCK_FILTER_SIZE) {
    out.push({
      code: buf.readUInt16LE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: buf.readUInt32LE(o + 4),
    });
  }
  return out;
}
