import { constants } from "node:fs";
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
} from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { S_IFBLK, S_IFCHR, S_IFIFO } from "@containerd-ts/sys/constants.js";
import type { Syscalls } from "@containerd-ts/sys";
import type { TarEntry, TarHeader } from "./tar.js";

/** OCI whiteouts: `.wh.<name>` deletes <name>, `.wh..wh..opq` empties its directory. */
const WHITEOUT_PREFIX = ".wh.";
const OPAQUE = ".wh..wh..opq";
const MAX_SYMLINKS = 255;

/** Linux's makedev for the 64-bit dev_t glibc uses. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return (
    ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn)
  );
}

/** A tar member name as a clean relative path ("" for the root itself). */
export function cleanName(name: string): string {
  const p = posix.normalize(`/${name}`);
  return p === "/" ? "" : p.slice(1).replace(/\/$/, "");
}

/**
 * Resolves a relative path inside `root` the way containerd's RootPath does: symlinks
 * on the way are followed, but never out of root (an absolute or escaping link restarts
 * from root). The last component is not followed.
 */
export async function resolveParent(root: string, rel: string): Promise<string> {
  const todo = rel.split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const path = join(root, ...done, part);
    let target: string | undefined;
    try {
      if ((await lstat(path)).isSymbolicLink()) target = await readlink(path);
    } catch {
      // missing: created later as a directory
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new Error(`too many links resolving ${rel}`);
    if (target.startsWith("/")) done.length = 0;
    todo.unshift(...target.split("/").filter(Boolean));
  }
  return join(root, ...done);
}

/** Where an entry goes: its parent resolved inside root, its own name kept. */
async function entryPath(root: string, name: string): Promise<string> {
  const parent = posix.dirname(name);
  const base = posix.basename(name);
  return join(parent === "." ? root : await resolveParent(root, parent), base);
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

/** Removes everything under `dir` that this layer did not itself unpack. */
async function applyOpaque(dir: string, unpacked: Set<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (!unpacked.has(path)) await rm(path, { recursive: true, force: true });
    else if ((await lstat(path)).isDirectory()) await applyOpaque(path, unpacked);
  }
}

async function writeFile(path: string, h: TarHeader, entry: TarEntry): Promise<void> {
  const fh = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    h.mode & 0o777,
  );
  try {
    for await (const chunk of entry.body()) await fh.write(chunk);
  } finally {
    await fh.close();
  }
}

async function create(
  root: string,
  path: string,
  h: TarHeader,
  entry: TarEntry,
  sys: Pick<Syscalls, "mknod">,
) {
  switch (h.type) {
    case "dir":
      if (!(await lstatOrUndefined(path))?.isDirectory())
        await mkdir(path, { mode: h.mode & 0o777 });
      return;
    case "file":
      return writeFile(path, h, entry);
    case "symlink":
      return symlink(h.linkname, path);
    case "link":
      return link(await entryPath(root, cleanName(h.linkname)), path);
    case "char":
    case "block":
    case "fifo": {
      const kind = h.type === "char" ? S_IFCHR : h.type === "block" ? S_IFBLK : S_IFIFO;
      return sys.mknod(path, kind | (h.mode & 0o7777), makedev(h.devmajor, h.devminor));
    }
  }
}

/**
 * Unpacks a layer's entries into `root` as containerd's applier does: whiteouts delete,
 * an existing entry is replaced unless both are directories, owners, modes and times are
 * kept (directory times last, since filling a directory changes them). Extended attributes
 * are not applied.
 */
export async function applyLayer(
  root: string,
  entries: AsyncIterable<TarEntry>,
  sys: Pick<Syscalls, "mknod">,
): Promise<void> {
  const unpacked = new Set<string>();
  const dirTimes: Array<{ path: string; mtime: number }> = [];
  for await (const entry of entries) {
    const h = entry.header;
    const name = cleanName(h.name);
    if (name === "") continue;
    const path = await entryPath(root, name);
    const base = posix.basename(name);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dir = dirname(path);
      if (base === OPAQUE) await applyOpaque(dir, unpacked);
      else
        await rm(join(dir, base.slice(WHITEOUT_PREFIX.length)), { recursive: true, force: true });
      continue;
    }
    const existing = await lstatOrUndefined(path);
    if (existing && !(existing.isDirectory() && h.type === "dir")) {
      await rm(path, { recursive: true, force: true });
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await create(root, path, h, entry, sys);
    unpacked.add(path);
    if (h.type === "link") continue;
    await lchown(path, h.uid, h.gid);
    // after chown, which clears setuid/setgid; symlinks have no mode of their own
    if (h.type !== "symlink") await chmod(path, h.mode & 0o7777);
    if (h.type === "dir") dirTimes.push({ path, mtime: h.mtime });
    else await lutimes(path, h.mtime, h.mtime);
  }
  for (const { path, mtime } of dirTimes.reverse()) await lutimes(path, mtime, mtime);
}
