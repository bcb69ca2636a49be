import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { headerOf, readTar, tarEnd, tarHeader, tarPadding } from "./tar.js";
import { memberPath, tarDirectory, untarDirectory } from "./tar-directory.js";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "ctd-tardir-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

const invalid = (e: unknown) => kindOf(e) === ErrorKind.InvalidArgument;

test("tarDirectory round-trips through readTar and untarDirectory", async (t) => {
  const src = join(tempDir(t), "src");
  mkdirSync(join(src, "sub/deeper"), { recursive: true });
  writeFileSync(join(src, "inventory.img"), Buffer.from([1, 2, 3, 0, 255]));
  writeFileSync(join(src, "big.img"), Buffer.alloc(200_000, 7));
  writeFileSync(join(src, "empty"), "");
  writeFileSync(join(src, "sub/deeper/x"), "hello", { mode: 0o600 });
  const tar = await collect(tarDirectory(src));
  assert.equal(tar.length % 512, 0);

  const names: string[] = [];
  for await (const e of readTar(once(tar))) names.push(`${e.header.type}:${e.header.name}`);
  assert.deepEqual(names, [
    "file:big.img",
    "file:empty",
    "file:inventory.img",
    "dir:sub/",
    "dir:sub/deeper/",
    "file:sub/deeper/x",
  ]);

  const out = join(tempDir(t), "out");
  mkdirSync(out);
  await untarDirectory(once(tar), out);
  for (const f of ["inventory.img", "big.img", "empty", "sub/deeper/x"]) {
    assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(src, f)), f);
  }
  assert.equal(statSync(join(out, "sub/deeper/x")).mode & 0o777, 0o600);
});

test(
  "the system tar reads what tarDirectory writes",
  { skip: !existsSync("/bin/tar") },
  async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, "src/d"), { recursive: true });
    writeFileSync(join(dir, "src/d/f"), "data");
    writeFileSync(join(dir, "a.tar"), await collect(tarDirectory(join(dir, "src"))));
    const r = spawnSync("tar", ["-tf", join(dir, "a.tar")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["d/", "d/f"]);
  },
);

test("tarDirectory refuses what untarDirectory could not unpack", async (t) => {
  const dir = tempDir(t);
  symlinkSync("/etc/passwd", join(dir, "link"));
  await assert.rejects(collect(tarDirectory(dir)), invalid);
});

test("member names that leave the target dir are refused", () => {
  assert.equal(memberPath("./a/b/"), "a/b");
  assert.equal(memberPath("a/../b"), "b");
  assert.equal(memberPath("./"), "");
  for (const bad of ["../x", "a/../../x", "/etc/passwd", ".."]) {
    assert.throws(() => memberPath(bad), invalid, bad);
  }
});

test("untarDirectory refuses escaping names and links, writing nothing outside", async (t) => {
  const dir = tempDir(t);
  const target = join(dir, "target");
  mkdirSync(target);
  const archive = (h: Parameters<typeof headerOf>[0], data = "") =>
    Buffer.concat([
      tarHeader(headerOf({ ...h, size: Buffer.byteLength(data) })),
      Buffer.from(data),
      tarPadding(Buffer.byteLength(data)),
      tarEnd(),
    ]);
  await assert.rejects(untarDirectory(once(archive({ name: "../evil" }, "x")), target), invalid);
  assert.ok(!existsSync(join(dir, "evil")));
  await assert.rejects(
    untarDirectory(once(archive({ name: "l", type: "symlink", linkname: "/" })), target),
    invalid,
  );
  assert.ok(!existsSync(join(target, "l")));
});
