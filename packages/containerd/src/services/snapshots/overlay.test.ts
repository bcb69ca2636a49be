import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { contentFixture } from "../content/test-support.js";
import { DiffService } from "../diff/domain.js";
import { headerOf, tarEnd, tarHeader, tarPadding } from "../diff/tar.js";
import { SnapshotService } from "./domain.js";
import { OverlayStorage } from "./overlay.js";

const canMount = process.getuid?.() === 0 && OverlayStorage.supported();

function fixture(t: { after(fn: () => void | Promise<void>): void }) {
  const fx = contentFixture(t);
  const storage = new OverlayStorage(join(fx.dir, "overlayfs"));
  const sn = new SnapshotService(fx.store, fx.events, fx.namespaces, "overlayfs", storage);
  const diff = new DiffService(fx.content, async () => ({
    mknod: () => assert.fail("no devices expected"),
  }));
  return { ...fx, sn, storage, diff };
}

/** A layer blob in content from (name, data) pairs; data undefined makes a directory. */
async function putLayer(fx: ReturnType<typeof fixture>, files: Array<[string, string?]>) {
  const parts: Buffer[] = [];
  for (const [name, data] of files) {
    const size = data === undefined ? 0 : Buffer.byteLength(data);
    const type = data === undefined ? "dir" : "file";
    parts.push(tarHeader(headerOf({ name, type, size, mode: 0o755 })));
    parts.push(Buffer.from(data ?? ""), tarPadding(size));
  }
  parts.push(tarEnd());
  const tar = Buffer.concat(parts);
  const info = await fx.content.putBlob(
    "ns",
    `layer-${createHash("sha256").update(tar).digest("hex")}`,
    tar,
  );
  return {
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    digest: info.digest,
    size: info.size,
  };
}

test("overlayfs mounts: bind without parents, overlay of the fs dirs nearest first", async (t) => {
  const { sn, storage } = fixture(t);
  const [m1] = await sn.prepare("ns", "a1");
  assert.equal(m1!.type, "bind");
  assert.deepEqual(m1!.options, ["rw", "rbind"]);
  assert.equal(m1!.source, join(storage.dir(1), "fs"));
  await sn.commit("ns", "l1", "a1");
  await sn.prepare("ns", "a2", "l1");
  await sn.commit("ns", "l2", "a2");
  const [top] = await sn.prepare("ns", "a3", "l2");
  assert.equal(top!.type, "overlay");
  const opts = top!.options.filter((o) => o !== "index=off");
  assert.deepEqual(opts, [
    `workdir=${join(storage.dir(3), "work")}`,
    `upperdir=${join(storage.dir(3), "fs")}`,
    `lowerdir=${join(storage.dir(2), "fs")}:${join(storage.dir(1), "fs")}`,
  ]);
  const [v1] = await sn.view("ns", "v1", "l1");
  assert.deepEqual(v1, {
    type: "bind",
    source: join(storage.dir(1), "fs"),
    options: ["ro", "rbind"],
  });
  const [v2] = await sn.view("ns", "v2", "l2");
  assert.equal(v2!.type, "overlay");
  assert.ok(!v2!.options.some((o) => o.startsWith("upperdir=")));
});

test(
  "layers unpack through overlay mounts: whiteouts hide lower files; diff sees the change",
  { skip: !canMount && "needs root and overlayfs" },
  async (t) => {
    const fx = fixture(t);
    const { sn, diff, storage } = fx;
    const l1 = await putLayer(fx, [["etc"], ["etc/a", "a"], ["etc/b", "b"]]);
    const l2 = await putLayer(fx, [
      ["etc/.wh.a", ""],
      ["etc/c", "c"],
    ]);
    await diff.apply("ns", l1, await sn.prepare("ns", "x1"));
    await sn.commit("ns", "c1", "x1");
    const upper = await sn.prepare("ns", "x2", "c1");
    await diff.apply("ns", l2, upper);
    await sn.commit("ns", "c2", "x2");
    // the second layer's own dir holds c and a whiteout for a, nothing of the first
    const fs2 = join(storage.dir(2), "fs", "etc");
    assert.deepEqual(readdirSync(fs2).sort(), ["a", "c"]);
    assert.ok(lstatSync(join(fs2, "a")).isCharacterDevice(), "a is an overlay whiteout");
    const [v] = await sn.view("ns", "v", "c2");
    const changed = await diff.diff("ns", await sn.view("ns", "lower", "c1"), [v!], {
      mediaType: "application/vnd.oci.image.layer.v1.tar",
    });
    await sn.prepare("ns", "check", "c1");
    const [m] = sn.mounts("ns", "check");
    await diff.apply("ns", changed, [m!]);
    // the diff re-applied on the first layer gives the second layer's view
    await sn.commit("ns", "c2b", "check");
    const { withMounts } = await import("../diff/mounts.js");
    const listing = await withMounts(await sn.view("ns", "vb", "c2b"), async (dir) =>
      readdirSync(join(dir, "etc")).sort(),
    );
    assert.deepEqual(listing, ["b", "c"]);
    assert.equal(readFileSync(join(storage.dir(2), "fs", "etc", "c"), "utf8"), "c");
    const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
    assert.ok(!mountinfo.includes(fx.dir), "nothing stays mounted");
  },
);
