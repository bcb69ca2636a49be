import { constants, createReadStream } from "node:fs";
import { lstat, mkdir, open, readdir } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import { headerOf, readTar, tarEnd, tarHeader, tarPadding } from "./tar.js";

/**
 * A plain directory tree (regular files and directories, what a CRIU image dir holds) as a tar
 * stream, entries sorted by name below the root. Anything else (links, devices) is refused:
 * such an archive could not be unpacked by `untarDirectory` either.
 */
export async function* tarDirectory(dir: string): AsyncGenerator<Buffer> {
  async function* walk(rel: string): AsyncGenerator<Buffer> {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const path = join(dir, childRel);
      const st = await lstat(path);
      const base = { name: childRel, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        yield tarHeader(headerOf({ ...base, type: "dir" }));
        yield* walk(childRel);
      } else if (st.isFile()) {
        yield tarHeader(headerOf({ ...base, size: st.size }));
        let left = st.size;
        for await (const chunk of createReadStream(path)) {
          const b = (chunk as Buffer).subarray(0, left);
          left -= b.length;
          yield b;
        }
        // a file that shrank while read still fills the size its header declared
        if (left > 0) yield Buffer.alloc(left);
        yield tarPadding(st.size);
      } else {
        throw errInvalidArgument(`${childRel}: only files and directories can be archived`);
      }
    }
  }
  yield* walk("");
  yield tarEnd();
}

/** A member name as a path relative to the target dir; refuses anything that would leave it. */
export function memberPath(name: string): string {
  const p = posix.normalize(name.replace(/^\.\//, ""));
  if (posix.isAbsolute(name) || p === ".." || p.startsWith("../")) {
    throw errInvalidArgument(`tar entry ${JSON.stringify(name)} escapes the target directory`);
  }
  return p === "." ? "" : p.replace(/\/$/, "");
}

/**
 * Unpacks a tar stream of files and directories (what `tarDirectory` writes) into the
 * existing directory `dir`. Entries naming a path outside it, and links or devices (which could
 * redirect later writes), are refused; files are created new, never followed through a link.
 */
export async function untarDirectory(source: AsyncIterable<Uint8Array>, dir: string) {
  for await (const entry of readTar(source)) {
    const h = entry.header;
    const rel = memberPath(h.name);
    if (rel === "") continue;
    const path = join(dir, rel);
    if (h.type === "dir") {
      await mkdir(path, { recursive: true, mode: h.mode & 0o777 });
    } else if (h.type === "file") {
      await mkdir(dirname(path), { recursive: true });
      const f = await open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        h.mode & 0o777,
      );
      try {
        for await (const chunk of entry.body()) await f.write(chunk);
      } finally {
        await f.close();
      }
    } else {
      throw errInvalidArgument(`tar entry ${JSON.stringify(h.name)}: ${h.type} is not supported`);
    }
  }
}
