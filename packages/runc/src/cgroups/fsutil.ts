// cgroupfs file access: every failure names the file (and the value written), errno kept.
import fs from "node:fs";
import path from "node:path";
import {
  ContainerdError,
  errFailedPrecondition,
  errInternal,
  errInvalidArgument,
  errNotFound,
} from "@containerd-ts/errdefs";
import type { CgroupTrace } from "./types.js";

export const U64_MAX = 0xffff_ffff_ffff_ffffn;

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function isENOENT(err: unknown): boolean {
  return errnoOf(err) === "ENOENT";
}

/** A domain error for a failed cgroupfs operation; the errno code stays readable as `.errno`. */
export function cgroupFsError(
  op: string,
  file: string,
  err: unknown,
  value?: string,
): ContainerdError {
  const code = errnoOf(err) ?? "EIO";
  const what = value === undefined ? `${op} ${file}` : `${op} ${JSON.stringify(value)} to ${file}`;
  const msg = `cgroups: ${what}: ${code}`;
  const e =
    code === "ENOENT"
      ? errNotFound(msg)
      : code === "EINVAL" || code === "ERANGE"
        ? errInvalidArgument(msg)
        : code === "EBUSY"
          ? errFailedPrecondition(msg)
          : errInternal(msg, err);
  Object.assign(e, { errno: code });
  return e;
}

export function errnoOfCgroupError(err: unknown): string | undefined {
  return (err as { errno?: string } | undefined)?.errno ?? errnoOf(err);
}

export class CgroupFs {
  constructor(private readonly trace?: CgroupTrace) {}

  read(dir: string, file: string): string {
    const p = path.join(dir, file);
    try {
      return fs.readFileSync(p, "utf8").trim();
    } catch (err) {
      throw cgroupFsError("read", p, err);
    }
  }

  /** The trimmed content, or undefined when the file does not exist. */
  readOptional(dir: string, file: string): string | undefined {
    try {
      return fs.readFileSync(path.join(dir, file), "utf8").trim();
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw cgroupFsError("read", path.join(dir, file), err);
    }
  }

  exists(dir: string, file?: string): boolean {
    return fs.existsSync(file === undefined ? dir : path.join(dir, file));
  }

  /** One write(2) of the whole value, as the kernel expects for control files. */
  write(dir: string, file: string, value: string): void {
    const p = path.join(dir, file);
    this.trace?.("write", p, value);
    try {
      fs.writeFileSync(p, value);
    } catch (err) {
      throw cgroupFsError("write", p, err, value);
    }
  }

  mkdir(dir: string): boolean {
    try {
      fs.mkdirSync(dir, { mode: 0o755 });
      this.trace?.("mkdir", dir);
      return true;
    } catch (err) {
      if (errnoOf(err) === "EEXIST") return false;
      throw cgroupFsError("mkdir", dir, err);
    }
  }

  /** Creates `dir` and its missing parents, outermost first. */
  mkdirAll(dir: string): void {
    if (fs.existsSync(dir)) return;
    this.mkdirAll(path.dirname(dir));
    this.mkdir(dir);
  }

  subdirs(dir: string): string[] {
    try {
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => path.join(dir, e.name));
    } catch (err) {
      if (isENOENT(err)) return [];
      throw cgroupFsError("readdir", dir, err);
    }
  }

  files(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch (err) {
      if (isENOENT(err)) return [];
      throw cgroupFsError("readdir", dir, err);
    }
  }

  /**
   * rmdir of a cgroup and its sub-cgroups, deepest first. Control files cannot (and need not)
   * be unlinked on cgroupfs; a fake tree in a plain directory needs them removed, so plain
   * files are unlinked when rmdir says the directory is not empty.
   */
  removeTree(dir: string): void {
    for (const sub of this.subdirs(dir)) this.removeTree(sub);
    this.trace?.("rmdir", dir);
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if (isENOENT(err)) return;
      if (errnoOf(err) === "ENOTEMPTY" && !isCgroupFs(dir)) {
        for (const f of this.files(dir)) fs.rmSync(path.join(dir, f), { force: true });
        fs.rmdirSync(dir);
        return;
      }
      throw cgroupFsError("rmdir", dir, err);
    }
  }
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

export function isCgroupFs(dir: string): boolean {
  try {
    const t = fs.statfsSync(dir).type;
    return t === CGROUP_SUPER_MAGIC || t === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** Parses a decimal u64; "max" maps to `maxValue`. */
export function parseU64(s: string, maxValue: bigint = U64_MAX): bigint {
  const t = s.trim();
  if (t === "max") return maxValue;
  if (!/^\d+$/.test(t)) {
    // negative values (e.g. "-1" limits) read back as the kernel's unlimited marker
    if (/^-\d+$/.test(t)) return 0n;
    throw errInvalidArgument(`cgroups: not an unsigned integer: ${JSON.stringify(s)}`);
  }
  const v = BigInt(t);
  return v > U64_MAX ? U64_MAX : v;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, ...). */
export function parseKeyValues(content: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (content ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread; the manager API is synchronous like the rest of runc-ts' cgroup code. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
