import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DataType as FfiDataType } from "ffi-rs";

// The one place that loads libc. Pointers cross the boundary as plain numbers (x86_64 and
// aarch64 user addresses fit in 48 bits), and memory is moved with memcpy between malloc'd
// blocks and Buffers, which ffi-rs passes in place as U8Array.

/** ffi-rs 1.3.7's DataType numbers (its d.ts enum), for the types this layer uses. */
export const DataType = {
  String: 0 as FfiDataType.String,
  I32: 1 as FfiDataType.I32,
  Void: 7 as FfiDataType.Void,
  I64: 8 as FfiDataType.I64,
  U8Array: 10 as FfiDataType.U8Array,
} as const;
export type DataType = FfiDataType;

interface Binding {
  open(p: { library: string; path: string }): void;
  load(p: Record<string, unknown>): unknown;
}

const requireHere = createRequire(import.meta.url);
let binding: Binding | undefined;

/**
 * ffi-rs's index.js tells glibc from musl with process.report.getReport(), which costs
 * 15-40 ms in every process (runc-ts starts two per container). On glibc Linux we load its
 * prebuilt native module directly and do the one thing its wrapper does for our calls
 * (describe Buffer arguments as arrays with their length); anything else uses ffi-rs itself.
 */
function ffi(): Binding {
  if (binding) return binding;
  if (process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64")) {
    try {
      const fromFfiRs = createRequire(
        join(dirname(requireHere.resolve("ffi-rs/package.json")), "index.js"),
      );
      const native = fromFfiRs(`@yuuang/ffi-rs-linux-${process.arch}-gnu`) as Binding & {
        FFITypeTag: { Array: number };
      };
      const arrayTag = native.FFITypeTag.Array;
      binding = {
        open: (p) => native.open(p),
        load: (p) => {
          const types = p.paramsType as unknown[];
          const values = p.paramsValue as unknown[];
          const paramsType = types.map((t, i) =>
            t === DataType.U8Array
              ? { ffiTypeTag: arrayTag, type: t, length: (values[i] as Buffer).length }
              : t,
          );
          return native.load({ freeResultMemory: false, ...p, paramsType });
        },
      };
      return binding;
    } catch {
      // musl or an unusual layout: the regular entry point below
    }
  }
  binding = requireHere("ffi-rs") as Binding;
  return binding;
}

export const LIBC = "libc";
let opened = false;

export function ensureLibc(): void {
  if (opened) return;
  ffi().open({ library: LIBC, path: "libc.so.6" });
  opened = true;
}

export type Param = FfiDataType;

/** Calls a libc function and returns its value plus the errno captured in the same call. */
export function callErrno(
  funcName: string,
  retType: FfiDataType.I32 | FfiDataType.I64,
  paramsType: Param[],
  paramsValue: unknown[],
): { value: number; errno: number } {
  ensureLibc();
  const r = ffi().load({
    library: LIBC,
    funcName,
    retType,
    paramsType,
    paramsValue,
    errno: true,
  }) as {
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
  return ffi().load({ library: LIBC, funcName, retType, paramsType, paramsValue });
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
