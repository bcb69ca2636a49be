import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildImage, ociArchive, sha256 } from "./image-archive.js";
import { describeEachRuntime, mountsUnder, type TaskSuite } from "./tasks-support.js";

/**
 * Images that run: the real ctr 1.6 imports an OCI archive (made from /bin/busybox) into
 * containerd-ts WITH unpacking into a snapshotter (native; overlayfs, ctr's default, where the
 * kernel has it), checks it, runs containers from it (the real runc shim and ours), and
 * removing the containers and the image leaves no snapshot, blob or mount behind.
 */

const hasOverlay = /\toverlay$/m.test(readFileSync("/proc/filesystems", "utf8"));
const SNAPSHOTTERS = hasOverlay ? ["native", "overlayfs"] : ["native"];

describeEachRuntime("images run", "images-run", (s) => {
  for (const sn of SNAPSHOTTERS) snapshotterTests(s, sn);
});

function snapshotterTests(s: TaskSuite, sn: string): void {
  const IMAGE = `docker.io/library/busybox-ts:${sn}`;
  /** overlayfs is ctr's default: no flag exercises that */
  const flag = sn === "overlayfs" ? [] : ["--snapshotter", sn];
  const ok = async (...args: string[]) => {
    const r = await s.ctr(args);
    assert.equal(r.code, 0, `ctr ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const rows = async (...args: string[]) =>
    (await ok(...args)).split("\n").slice(1).filter(Boolean);
  const snapshotsDir = () => join(s.daemon.root, `io.containerd.snapshotter.v1.${sn}`, "snapshots");
  let layerChainId = "";

  test(`${sn}: import unpacks; the layer is a committed snapshot; check says complete`, async () => {
    const img = buildImage(join(s.dir, `image-${sn}`), ["echo", "sh"]);
    layerChainId = `sha256:${sha256(img.layer)}`; // one layer: its chain ID is its diff ID
    const out = await ok(
      "images",
      "import",
      ...flag,
      ociArchive(join(s.dir, `image-${sn}`), img, IMAGE),
    );
    assert.match(out, /unpacking .*done/);
    const snaps = await rows("snapshots", ...flag, "ls");
    assert.equal(snaps.length, 1, snaps.join("\n"));
    assert.match(snaps[0]!, new RegExp(`^${layerChainId}\\s+Committed`));
    const check = await rows("images", "check", ...flag);
    assert.match(check[0]!, /complete \(2\/2\).*true\s*$/);
    // unpack labelled the config for the collector and left no lease behind
    const config = (await ok("content", "ls"))
      .split("\n")
      .find((l) => l.startsWith(img.digests.config));
    assert.match(config ?? "", new RegExp(`containerd.io/gc.ref.snapshot.${sn}=${layerChainId}`));
    assert.deepEqual(await rows("leases", "ls"), []);
    assert.deepEqual(readdirSync(snapshotsDir()).length, 1);
  });

  test(`${sn}: run --rm echo hi from the image`, async () => {
    const r = await s.ctr([
      "run",
      "--rm",
      "--runtime",
      s.runtime,
      ...flag,
      IMAGE,
      `img-hi-${sn}`,
      "/bin/echo",
      "hi",
    ]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi\n");
    assert.equal(r.code, 0);
    assert.equal((await rows("snapshots", ...flag, "ls")).length, 1);
  });

  test(`${sn}: a kept container's snapshot is active on the layer until containers rm`, async () => {
    const args = ["run", "--runtime", s.runtime, ...flag, IMAGE, `img-kept-${sn}`];
    const r = await s.ctr([...args, "/bin/sh", "-c", "echo changed > /bin/mark; echo done"]);
    assert.equal(r.stdout, "done\n", r.stderr);
    const active = await rows("snapshots", ...flag, "ls");
    assert.ok(
      active.some((l) => new RegExp(`^img-kept-${sn}\\s+${layerChainId}\\s+Active`).test(l)),
      active.join("\n"),
    );
    const usage = await rows("snapshots", ...flag, "usage", `img-kept-${sn}`);
    assert.match(usage[0]!, new RegExp(`^img-kept-${sn}\\s+\\S+`));
    await ok("containers", "rm", `img-kept-${sn}`);
    assert.equal((await rows("snapshots", ...flag, "ls")).length, 1);
  });

  test(`${sn}: images rm: the collector takes the layer's snapshot and blobs; no mounts left`, async () => {
    await ok("images", "rm", "--sync", IMAGE);
    assert.deepEqual(await rows("snapshots", ...flag, "ls"), []);
    assert.deepEqual(await rows("content", "ls"), []);
    // directories go right after the metadata, without waiting for the next collection
    for (let i = 0; i < 100 && readdirSync(snapshotsDir()).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(readdirSync(snapshotsDir()), []);
    assert.deepEqual(mountsUnder(s.dir), []);
    assert.ok(existsSync(s.daemon.root));
  });
}
