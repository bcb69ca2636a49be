import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { bundleRoots, createBundle, deleteBundle } from "./bundle.js";

test("bundle layout: config.json, rootfs, work link; delete removes both sides", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-bundle-"));
  try {
    const roots = bundleRoots(join(dir, "root"), join(dir, "state"));
    const spec = Buffer.from('{"ociVersion":"1.0.2"}');
    const b = await createBundle(roots, "ns1", "c1", spec);
    assert.equal(b.path, join(dir, "state", "io.containerd.runtime.v2.task", "ns1", "c1"));
    assert.deepEqual(readFileSync(join(b.path, "config.json")), spec);
    assert.ok(statSync(join(b.path, "rootfs")).isDirectory());
    const work = join(dir, "root", "io.containerd.runtime.v2.task", "ns1", "c1");
    assert.equal(readlinkSync(join(b.path, "work")), work);
    assert.equal(statSync(b.path).mode & 0o777, 0o700);
    const again = await createBundle(roots, "ns1", "c1", spec).catch((e: unknown) => e);
    assert.equal(kindOf(again), ErrorKind.AlreadyExists);
    await deleteBundle(b);
    assert.ok(!existsSync(b.path));
    assert.ok(!existsSync(work));
    await deleteBundle(b); // idempotent
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ids that could escape the bundle dir are refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-bundle-"));
  try {
    const roots = bundleRoots(join(dir, "root"), join(dir, "state"));
    for (const id of ["../x", "a/b", "", "."]) {
      const err = await createBundle(roots, "ns1", id, Buffer.from("{}")).catch((e: unknown) => e);
      assert.equal(kindOf(err), ErrorKind.InvalidArgument, id);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
