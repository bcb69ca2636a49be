import { createReadStream, type BigIntStats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { tarEnd, tarHeader, tarPadding, type EntryType, type TarHeader } from "./tar.js";

const S_IFMT = 0o170000n;

async function stat(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

const typeOf = (st: BigIntStats): EntryType =>
  st.isDirectory()
    ? "dir"
    : st.isSymbolicLink()
      ? "symlink"
      : st.isCharacterDevice()
        ? "char"
        : st.isBlockDevice()
          ? "block"
          : st.isFIFO()
            ? "fifo"
            : "file";

/**
 * continuity's sameFile, roughly: same type, mode, owner and device; files also the same
 * size and nanosecond mtime; symlinks the same target. Directories ignore size and times
 * (adding a child changes them).
 */
async function same(lowerPath: string, a: BigIntStats, upperPath: string, b: BigIntStats) {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return false;
  if (a.isDirectory()) return true;
  if (a.size !== b.size || a.mtimeNs !== b.mtimeNs) return false;
  if (a.isSymbolicLink()) return (await readlink(lowerPath)) === (await readlink(upperPath));
  return true;
}

interface Options {
  /** Clamp entry times to this (seconds), for reproducible layers. */
  sourceDateEpoch?: number;
}

/**
 * The changes from `lower` to `upper` as an OCI layer tar stream (containerd's walking
 * differ): added and modified entries with their data, `.wh.<name>` for removed ones, the
 * parent directories of every change, hard links kept as links.
 */
export async function* layerTar(
  lower: string,
  upper: string,
  opts: Options = {},
): AsyncGenerator<Buffer> {
  const epoch = opts.sourceDateEpoch;
  const clamp = (t: number) => (epoch !== undefined && t > epoch ? epoch : t);
  const links = new Map<bigint, string>();
  /** Directories on the way down that are written only if something below them changes. */
  const pending: Array<{ rel: string; st: BigIntStats; written: boolean }> = [];

  const header = (rel: string, st: BigIntStats, extra: Partial<TarHeader> = {}): TarHeader => ({
    name: rel,
    type: typeOf(st),
    mode: Number(st.mode & ~S_IFMT) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: 0,
    mtime: clamp(Number(st.mtimeMs) / 1000),
    linkname: "",
    uname: "",
    gname: "",
    devmajor: Number(st.rdev >> 8n) & 0xfff,
    devminor: Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xfff00n)),
    xattrs: {},
    ...extra,
  });

  async function* parents(): AsyncGenerator<Buffer> {
    for (const p of pending) {
      if (p.written) continue;
      p.written = true;
      yield tarHeader(header(p.rel, p.st));
    }
  }

  async function* entry(rel: string, path: string, st: BigIntStats): AsyncGenerator<Buffer> {
    yield* parents();
    if (st.isFile() && st.nlink > 1n) {
      const first = links.get(st.ino);
      if (first !== undefined) {
        yield tarHeader(header(rel, st, { type: "link", linkname: first }));
        return;
      }
      links.set(st.ino, rel);
    }
    if (st.isSymbolicLink()) {
      yield tarHeader(header(rel, st, { linkname: await readlink(path) }));
    } else if (st.isFile()) {
      const size = Number(st.size);
      yield tarHeader(header(rel, st, { size }));
      let n = 0;
      for await (const chunk of createReadStream(path)) {
        const b = chunk as Buffer;
        const take = b.subarray(0, Math.max(0, size - n));
        n += take.length;
        yield take;
      }
      // a file that shrank while being read still fills its declared size
      if (n < size) yield Buffer.alloc(size - n);
      yield tarPadding(size);
    } else {
      yield tarHeader(header(rel, st));
    }
  }

  /** Everything below an added directory is added too. */
  async function* added(rel: string, path: string, st: BigIntStats): AsyncGenerator<Buffer> {
    yield* entry(rel, path, st);
    if (!st.isDirectory()) return;
    for (const name of (await readdir(path)).sort()) {
      const child = join(path, name);
      const cst = await stat(child);
      if (cst) yield* added(`${rel}/${name}`, child, cst);
    }
  }

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const lowerDir = join(lower, rel);
    const upperDir = join(upper, rel);
    const lowerNames = new Set(await readdir(lowerDir).catch(() => [] as string[]));
    const upperNames = new Set(await readdir(upperDir));
    const names = [...new Set([...lowerNames, ...upperNames])].sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const lp = join(lowerDir, name);
      const up = join(upperDir, name);
      const a = lowerNames.has(name) ? await stat(lp) : undefined;
      const b = upperNames.has(name) ? await stat(up) : undefined;
      if (!b) {
        if (!a) continue;
        yield* parents();
        const parentSt = (await stat(upperDir))!;
        yield tarHeader({
          ...header(rel ? `${rel}/.wh.${name}` : `.wh.${name}`, parentSt),
          type: "file",
          mode: 0,
          uid: 0,
          gid: 0,
        });
      } else if (!a || (a.mode & S_IFMT) !== (b.mode & S_IFMT)) {
        yield* added(childRel, up, b);
      } else if (b.isDirectory()) {
        const changed = !(await same(lp, a, up, b));
        if (changed) yield* entry(childRel, up, b);
        pending.push({ rel: childRel, st: b, written: changed });
        yield* walk(childRel);
        pending.pop();
      } else if (!(await same(lp, a, up, b))) {
        yield* entry(childRel, up, b);
      }
    }
  }

  yield* walk("");
  yield tarEnd();
}
