import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildImage, ociArchive, sha256 } from "./image-archive.js";
import { describeEachRuntime, mountsUnder } from "./tasks-support.js";

/**
 * Images that run: the real ctr 1.6 imports an OCI archive (made from /bin/busybox) into
 * containerd-ts WITH unpacking into the native snapshotter, checks it, runs containers from
 * it (the real runc shim and ours), and removing the containers and the image leaves no
 * snapshot, blob or mount behind.
 */

const IMAGE = "docker.io/library/busybox-ts:e2e";

describeEachRuntime("images run", "images-run", (s) => {
  const ok = async (...args: string[]) => {
    const r = await s.ctr(args);
    assert.equal(r.code, 0, `ctr ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const rows = async (...args: string[]) =>
    (await ok(...args)).split("\n").slice(1).filter(Boolean);
  const snapshotsDir = () =>
    join(s.daemon.root, "io.containerd.snapshotter.v1.native", "snapshots");
  let layerChainId = "";

  test("import unpacks into native; the layer is a committed snapshot; check says complete", async () => {
    const img = buildImage(join(s.dir, "image"), ["echo", "sh"]);
    layerChainId = `sha256:${sha256(img.layer)}`; // one layer: its chain ID is its diff ID
    const out = await ok(
      "images",
      "import",
      "--snapshotter",
      "native",
      ociArchive(s.dir, img, IMAGE),
    );
    assert.match(out, /unpacking .*done/);
    const snaps = await rows("snapshots", "--snapshotter", "native", "ls");
    assert.equal(snaps.length, 1, snaps.join("\n"));
    assert.match(snaps[0]!, new RegExp(`^${layerChainId}\\s+Committed`));
    const check = await rows("images", "check", "--snapshotter", "native");
    assert.match(check[0]!, /complete \(2\/2\).*true\s*$/);
    // unpack labelled the config for the collector and left no lease behind
    const config = (await ok("content", "ls"))
      .split("\n")
      .find((l) => l.startsWith(img.digests.config));
    assert.match(config ?? "", new RegExp(`containerd.io/gc.ref.snapshot.native=${layerChainId}`));
    assert.deepEqual(await rows("leases", "ls"), []);
    assert.deepEqual(readdirSync(snapshotsDir()).length, 1);
  });

  test(`run --rm echo hi from the image`, async () => {
    const r = await s.ctr([
      "run",
      "--rm",
      "--runtime",
      s.runtime,
      "--snapshotter",
      "native",
      IMAGE,
      "img-hi",
      "/bin/echo",
      "hi",
    ]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi\n");
    assert.equal(r.code, 0);
    assert.equal((await rows("snapshots", "--snapshotter", "native", "ls")).length, 1);
  });

  test("a kept container's snapshot is active on the layer until containers rm", async () => {
    const args = ["run", "--runtime", s.runtime, "--snapshotter", "native", IMAGE, "img-kept"];
    const r = await s.ctr([...args, "/bin/sh", "-c", "echo changed > /bin/mark; echo done"]);
    assert.equal(r.stdout, "done\n", r.stderr);
    const active = await rows("snapshots", "--snapshotter", "native", "ls");
    assert.ok(
      active.some((l) => new RegExp(`^img-kept\\s+${layerChainId}\\s+Active`).test(l)),
      active.join("\n"),
    );
    const usage = await rows("snapshots", "--snapshotter", "native", "usage", "img-kept");
    assert.match(usage[0]!, /^img-kept\s+\S+/);
    await ok("containers", "rm", "img-kept");
    assert.equal((await rows("snapshots", "--snapshotter", "native", "ls")).length, 1);
  });

  test("images rm: the collector takes the layer's snapshot and blobs; no mounts left", async () => {
    await ok("images", "rm", "--sync", IMAGE);
    assert.deepEqual(await rows("snapshots", "--snapshotter", "native", "ls"), []);
    assert.deepEqual(await rows("content", "ls"), []);
    // directories go right after the metadata, without waiting for the next collection
    for (let i = 0; i < 100 && readdirSync(snapshotsDir()).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(readdirSync(snapshotsDir()), []);
    assert.deepEqual(mountsUnder(s.dir), []);
    assert.ok(existsSync(s.daemon.root));
  });
});
