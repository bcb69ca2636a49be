import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CLONE_FS,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
} from "@containerd-ts/sys/constants.js";
import { RecordingSyscalls } from "@containerd-ts/sys/fake.js";
import { enterNamespaces } from "./namespaces.js";

test("namespaces: private fs_struct first, setns for paths, one unshare, setns back on restore", () => {
  const sys = new RecordingSyscalls();
  const restore = enterNamespaces(sys, [
    { type: "pid" },
    { type: "network", path: "/proc/self/ns/net" },
    { type: "mount" },
    { type: "uts" },
    { type: "ipc" },
    { type: "cgroup" },
  ]);
  assert.deepEqual(sys.names(), ["unshare", "setns", "unshare"]);
  assert.deepEqual(sys.argsOf("unshare"), [
    [CLONE_FS],
    [CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC],
  ]);
  assert.equal(sys.argsOf("setns")[0]![1], CLONE_NEWNET);
  restore();
  // back into the five namespaces we left (the new cgroup namespace is the init's business)
  assert.deepEqual(
    sys
      .argsOf("setns")
      .slice(1)
      .map((a) => a[1]),
    [CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC],
  );
});

test("a failing unshare puts back what was already entered", () => {
  const sys = new RecordingSyscalls().failCall("unshare", "EPERM", 1);
  assert.throws(() => enterNamespaces(sys, [{ type: "uts" }]));
  assert.deepEqual(sys.names(), ["unshare", "setns"]);
});
