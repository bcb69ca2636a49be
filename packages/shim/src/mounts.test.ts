import { test } from "node:test";
import assert from "node:assert/strict";
import { MS_BIND, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT } from "@containerd-ts/sys";
import { mountOne, parseMountOptions } from "./mounts.js";
import type { ShimSys } from "./sys.js";

test("mount options split into flags, propagation and data", () => {
  const p = parseMountOptions(["rbind", "ro", "nosuid", "rprivate", "lowerdir=/a", "upperdir=/b"]);
  assert.equal(p.flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID);
  assert.equal(p.propagation, MS_PRIVATE | MS_REC);
  assert.equal(p.data, "lowerdir=/a,upperdir=/b");
  assert.equal(parseMountOptions(["ro", "rw"]).flags, 0);
});

test("a read-only bind is a bind then a remount", () => {
  const calls: unknown[][] = [];
  const sys = { mount: (...a: unknown[]) => void calls.push(a) } as unknown as ShimSys;
  mountOne(sys, { type: "bind", source: "/src", options: ["rbind", "ro"] }, "/t");
  assert.deepEqual(calls, [
    ["/src", "/t", "bind", MS_BIND | MS_REC | MS_RDONLY, null],
    [null, "/t", null, MS_BIND | MS_REC | MS_RDONLY | MS_REMOUNT, null],
  ]);
});
