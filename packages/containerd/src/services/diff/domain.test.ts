import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ErrorKind } from "@containerd-ts/errdefs";
import { contentFixture, kind } from "../content/test-support.js";
import { applyLayer } from "./apply.js";
import { DiffService, layerCompression, UNCOMPRESSED_LABEL } from "./domain.js";
import { headerOf, readTar, tarEnd, tarHeader, tarPadding, type TarHeader } from "./tar.js";

const MTIME = 1_600_000_000;
const isRoot = process.getuid?.() === 0;

type Spec = Partial<TarHeader> & { name: string; data?: string };

function layerTar(specs: Spec[]): Buffer {
  const parts: Buffer[] = [];
  for (const { data = "", ...s } of specs) {
    const h = headerOf({ mtime: MTIME, size: Buffer.byteLength(data), ...s });
    parts.push(tarHeader(h), Buffer.from(data), tarPadding(h.size));
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

async function* once(b: Buffer) {
  yield b;
}

const noDevices = { mknod: () => assert.fail("no devices expected") };

/** Every path under root with its type, mode, owner and (for files/links) content. */
function tree(root: string, rel = ""): string[] {
  return readdirSync(join(root, rel))
    .sort()
    .flatMap((name) => {
      const p = join(root, rel, name);
      const st = lstatSync(p);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(p)}`
        : st.isFile()
          ? readFileSync(p, "utf8")
          : "";
      const line = `${rel}/${name} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${what}`;
      return st.isDirectory() ? [line, ...tree(root, `${rel}/${name}`)] : [line];
    });
}

test("apply: whiteouts delete, opaque directories keep only what the layer adds", async (t) => {
  const { dir } = contentFixture(t);
  const root = join(dir, "root");
  mkdirSync(root);
  const base = [
    { name: "a", data: "a" },
    { name: "d", type: "dir" as const, mode: 0o755 },
    { name: "d/x", data: "x" },
    { name: "d/sub", type: "dir" as const, mode: 0o755 },
    { name: "d/sub/y", data: "y" },
    { name: "keep", type: "dir" as const, mode: 0o755 },
    { name: "keep/z", data: "z" },
  ];
  await applyLayer(root, readTar(once(layerTar(base))), noDevices);
  const top = [
    { name: ".wh.a" },
    { name: "d", type: "dir" as const, mode: 0o700 },
    { name: "d/new", data: "new" },
    { name: "d/.wh..wh..opq" },
    { name: "keep/.wh.missing" },
  ];
  await applyLayer(root, readTar(once(layerTar(top))), noDevices);
  assert.deepEqual(readdirSync(root).sort(), ["d", "keep"]);
  assert.deepEqual(readdirSync(join(root, "d")), ["new"]);
  assert.equal(lstatSync(join(root, "d")).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(join(root, "keep")), ["z"]);
});

test("apply: owners, modes with setuid, times, links, replaced entries", async (t) => {
  const { dir } = contentFixture(t);
  const root = join(dir, "root");
  mkdirSync(root);
  writeFileSync(join(root, "was-file"), "old");
  const uid = isRoot ? 1234 : process.getuid!();
  const gid = isRoot ? 5678 : process.getgid!();
  await applyLayer(
    root,
    readTar(
      once(
        layerTar([
          { name: "bin", type: "dir", mode: 0o755, mtime: MTIME + 5 },
          { name: "bin/tool", data: "#!", mode: 0o4755, uid, gid },
          { name: "bin/hard", type: "link", linkname: "bin/tool" },
          { name: "bin/soft", type: "symlink", linkname: "tool", mode: 0o777 },
          { name: "was-file", type: "dir", mode: 0o711 },
          { name: "was-file/inside", data: "i" },
        ]),
      ),
    ),
    noDevices,
  );
  const tool = lstatSync(join(root, "bin", "tool"));
  assert.equal(tool.mode & 0o7777, 0o4755);
  assert.deepEqual([tool.uid, tool.gid], [uid, gid]);
  assert.equal(tool.mtimeMs, MTIME * 1000);
  assert.equal(lstatSync(join(root, "bin")).mtimeMs, (MTIME + 5) * 1000, "dir times set last");
  assert.equal(lstatSync(join(root, "bin", "hard")).ino, tool.ino);
  assert.equal(readlinkSync(join(root, "bin", "soft")), "tool");
  assert.ok(lstatSync(join(root, "was-file")).isDirectory());
});

test("apply: parents are resolved through symlinks without leaving the root", async (t) => {
  const { dir } = contentFixture(t);
  const root = join(dir, "root");
  mkdirSync(root);
  const outside = join(dir, "outside");
  await applyLayer(
    root,
    readTar(
      once(
        layerTar([
          { name: "escape", type: "symlink", linkname: outside },
          { name: "escape/f", data: "contained" },
          { name: "../../up", data: "up" },
        ]),
      ),
    ),
    noDevices,
  );
  assert.equal(readFileSync(join(root, outside, "f"), "utf8"), "contained");
  assert.equal(readFileSync(join(root, "up"), "utf8"), "up");
  assert.throws(() => lstatSync(outside));
});

test("apply: devices and fifos go through mknod", async (t) => {
  const { dir } = contentFixture(t);
  const root = join(dir, "root");
  mkdirSync(root);
  const calls: Array<[string, number, bigint]> = [];
  const sys = {
    mknod: (path: string, mode: number, dev: bigint) => {
      calls.push([path.slice(root.length), mode, dev]);
      writeFileSync(path, ""); // stands in for the node
    },
  };
  await applyLayer(
    root,
    readTar(
      once(
        layerTar([
          { name: "null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
          { name: "p", type: "fifo", mode: 0o600 },
        ]),
      ),
    ),
    sys,
  );
  assert.deepEqual(calls, [
    ["/null", 0o020666, 0x103n],
    ["/p", 0o010600, 0n],
  ]);
});

test("Apply reads the layer from content (gzip or not) and returns the diff ID", async (t) => {
  const { content, dir } = contentFixture(t);
  const tar = layerTar([{ name: "hello", data: "world" }]);
  const diffId = `sha256:${createHash("sha256").update(tar).digest("hex")}`;
  const gz = gzipSync(tar);
  const blob = await content.putBlob("ns", "layer", gz);
  const diff = new DiffService(content, async () => noDevices);
  const root = join(dir, "root");
  mkdirSync(root);
  const mounts = [{ type: "bind", source: root, options: ["rbind", "rw"] }];
  const layer = {
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: blob.digest,
    size: gz.length,
  };
  const applied = await diff.apply("ns", layer, mounts);
  assert.deepEqual(applied, {
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    digest: diffId,
    size: tar.length,
  });
  assert.equal(readFileSync(join(root, "hello"), "utf8"), "world");
  // Docker's plain media type is sniffed for gzip
  const docker = { ...layer, mediaType: "application/vnd.docker.image.rootfs.diff.tar" };
  assert.equal((await diff.apply("ns", docker, mounts)).digest, diffId);
  await assert.rejects(
    diff.apply("ns", { ...layer, digest: `sha256:${"0".repeat(64)}` }, mounts),
    kind(ErrorKind.NotFound),
  );
  await assert.rejects(diff.apply("ns", { ...layer, mediaType: "text/plain" }, mounts));
  assert.equal(layerCompression("application/vnd.oci.image.layer.v1.tar+zstd+x"), "");
  assert.throws(() => layerCompression("application/vnd.oci.image.layer.v1.tar+zstd"));
});

test("Diff then Apply on the lower copy reproduces the upper tree", async (t) => {
  const { content, dir } = contentFixture(t);
  const lower = join(dir, "lower");
  mkdirSync(join(lower, "etc", "deep"), { recursive: true });
  mkdirSync(join(lower, "gone-dir", "sub"), { recursive: true });
  writeFileSync(join(lower, "etc", "deep", "same"), "same");
  writeFileSync(join(lower, "etc", "modified"), "before");
  writeFileSync(join(lower, "removed"), "x");
  writeFileSync(join(lower, "gone-dir", "sub", "f"), "f");
  writeFileSync(join(lower, "mode"), "m");
  const upper = join(dir, "upper");
  execFileSync("cp", ["-a", lower, upper]);
  writeFileSync(join(upper, "etc", "modified"), "after, longer");
  rmSync(join(upper, "removed"));
  rmSync(join(upper, "gone-dir"), { recursive: true });
  chmodSync(join(upper, "mode"), 0o600);
  mkdirSync(join(upper, "etc", "deep", "new-dir"));
  writeFileSync(join(upper, "etc", "deep", "new-dir", "n"), "n");
  symlinkSync("../etc/modified", join(upper, "etc", "link"));
  writeFileSync(join(upper, "h1"), "hard");
  linkSync(join(upper, "h1"), join(upper, "h2"));
  const bind = (source: string) => [{ type: "bind", source, options: ["rbind", "ro"] }];
  const diff = new DiffService(content, async () => noDevices);

  const desc = await diff.diff("ns", bind(lower), bind(upper), { ref: "d1", labels: { a: "b" } });
  assert.equal(desc.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  const info = content.info("ns", desc.digest);
  assert.equal(info.labels.a, "b");
  assert.match(info.labels[UNCOMPRESSED_LABEL] ?? "", /^sha256:[0-9a-f]{64}$/);

  const target = join(dir, "target");
  execFileSync("cp", ["-a", lower, target]);
  const applied = await diff.apply("ns", desc, bind(target));
  assert.equal(applied.digest, info.labels[UNCOMPRESSED_LABEL]);
  assert.deepEqual(tree(target), tree(upper));
  assert.equal(lstatSync(join(target, "h2")).ino, lstatSync(join(target, "h1")).ino);

  // the same changes again: the blob exists, the answer is the same
  assert.deepEqual(await diff.diff("ns", bind(lower), bind(upper)), desc);
  const plain = await diff.diff("ns", bind(lower), bind(upper), {
    mediaType: "application/vnd.oci.image.layer.v1.tar",
  });
  assert.equal(plain.digest, applied.digest);
  await assert.rejects(
    diff.diff("ns", bind(lower), bind(upper), { mediaType: "application/x-zip" }),
    kind(ErrorKind.NotImplemented),
  );
});

test("Diff under a lease keeps its layer through a collection; without one it is collected", async (t) => {
  const { content, leases, dir } = contentFixture(t);
  const lower = join(dir, "lower");
  const upper = join(dir, "upper");
  mkdirSync(lower);
  mkdirSync(upper);
  const bind = (source: string) => [{ type: "bind", source, options: ["rbind", "ro"] }];
  const diff = new DiffService(content, async () => noDevices);

  writeFileSync(join(upper, "leased"), "kept");
  leases.create("ns", "checkpoint-lease");
  const leased = await diff.diff("ns", bind(lower), bind(upper), { lease: "checkpoint-lease" });
  writeFileSync(join(upper, "unleased"), "dropped");
  const unleased = await diff.diff("ns", bind(lower), bind(upper));

  content.collectGarbage();
  assert.equal(content.info("ns", leased.digest).digest, leased.digest);
  assert.throws(() => content.info("ns", unleased.digest), kind(ErrorKind.NotFound));
  await assert.rejects(
    diff.diff("ns", bind(lower), bind(upper), { lease: "no-such-lease" }),
    kind(ErrorKind.NotFound),
  );
});
