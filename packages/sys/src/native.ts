import { DataType, load, open } from "ffi-rs";

// The one place that loads libc. Pointers cross the boundary as plain numbers (x86_64 and
// aarch64 user addresses fit in 48 bits), and memory is moved with memcpy between malloc'd
// blocks and Buffers, which ffi-rs passes in place as U8Array.

export const LIBC = "libc";
let opened = false;

export function ensureLibc(): void {
  if (opened) return;
  open({ library: LIBC, path: "libc.so.6" });
  opened = true;
}

export type Param = DataType;

/** Calls a libc function and returns its value plus the errno captured in the same call. */
export function callErrno(
  funcName: string,
  retType: DataType.I32 | DataType.I64,
  paramsType: Param[],
  paramsValue: unknown[],
): { value: number; errno: number } {
  ensureLibc();
  const r = load({
    library: LIBC,
    funcName,
    retType,
    paramsType,
    paramsValue,
    errno: true,
  }) as unknown as {
    value: number;
    errnoCode: number;
  };
  return { value: r.value, errno: r.errnoCode };
}

/** Calls a libc function that cannot fail (malloc aside) and returns its value. */
export function callPlain(
  funcName: string,
  retType: DataType,
  paramsType: Param[],
  paramsValue: unknown[],
): unknown {
  ensureLibc();
  return load({ library: LIBC, funcName, retType, paramsType, paramsValue });
}

export function malloc(size: number): number {
  const p = callPlain(
    "calloc",
    DataType.I64,
    [DataType.I64, DataType.I64],
    [1, Math.max(size, 1)],
  ) as number;
  if (!p) throw new Error(`calloc(${size}) failed`);
  return p;
}

export function free(ptr: number): void {
  if (ptr) callPlain("free", DataType.Void, [DataType.I64], [ptr]);
}

export function writeMem(ptr: number, data: Buffer): void {
  if (data.length === 0) return;
  callPlain(
    "memcpy",
    DataType.I64,
    [DataType.I64, DataType.U8Array, DataType.I64],
    [ptr, data, data.length],
  );
}

export function readMem(ptr: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  if (length > 0)
    callPlain(
      "memcpy",
      DataType.I64,
      [DataType.U8Array, DataType.I64, DataType.I64],
      [out, ptr, length],
    );
  return out;
}

/**
 * Lays strings out as a NULL-terminated `char *[]` in malloc'd memory (what execve wants;
 * ffi-rs's StringArray has no terminating NULL). Returns the table and every block to free.
 */
export function cStringTable(strings: readonly string[]): { table: number; blocks: number[] } {
  const blocks: number[] = [];
  const table = malloc((strings.length + 1) * 8);
  blocks.push(table);
  const pointers = Buffer.alloc((strings.length + 1) * 8);
  strings.forEach((s, i) => {
    const bytes = Buffer.from(s + "\0", "utf8");
    const p = malloc(bytes.length);
    blocks.push(p);
    writeMem(p, bytes);
    pointers.writeBigUInt64LE(BigInt(p), i * 8);
  });
  writeMem(table, pointers);
  return { table, blocks };
}
