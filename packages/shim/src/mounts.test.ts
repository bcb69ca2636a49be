import { test } from "node:test";
import assert from "node:assert/strict";
import { MS_BIND, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT } from "@containerd-ts/sys";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { mountOne } from "./mounts.js";
import type { ShimSys } from "./sys.js";

function recorder() {
  const calls: unknown[][] = [];
  const sys = { mount: (...a: unknown[]) => void calls.push(a) } as unknown as ShimSys;
  return { calls, sys };
}

test("a read-only bind is a bind then a remount, propagation last", () => {
  const { calls, sys } = recorder();
  mountOne(
    sys,
    { type: "bind", source: "/src", options: ["rbind", "ro", "nosuid", "rprivate"] },
    "/t",
  );
  const flags = MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID;
  assert.deepEqual(calls, [
    ["/src", "/t", "bind", flags, null],
    [null, "/t", null, flags | MS_REMOUNT, null],
    [null, "/t", null, MS_PRIVATE | MS_REC, null],
  ]);
});

test("overlay options travel as data; loop mounts are refused", () => {
  const { calls, sys } = recorder();
  mountOne(
    sys,
    {
      type: "overlay",
      source: "overlay",
      options: ["lowerdir=/a:/b", "upperdir=/u", "workdir=/w"],
    },
    "/t",
  );
  assert.deepEqual(calls, [
    ["overlay", "/t", "overlay", 0, "lowerdir=/a:/b,upperdir=/u,workdir=/w"],
  ]);
  assert.throws(
    () => mountOne(sys, { type: "ext4", source: "/img", options: ["loop"] }, "/t"),
    (e) => kindOf(e) === ErrorKind.NotImplemented,
  );
});
