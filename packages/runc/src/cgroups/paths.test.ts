import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import {
  cleanCgroupPath,
  createCgroupManager,
  detectCgroupMode,
  innerCgroupPath,
  parseProcCgroup,
  v1Mounts,
} from "./index.js";
import { fakeProc, fakeV1Root, fakeV2Root, removeAll } from "./testutil.js";

const SELF_V1 =
  "9:name=systemd:/user.slice\n4:memory:/mine/mem\n3:cpu,cpuacct:/mine/cpu\n2:devices:/\n0::/mine/unified\n";

test("cleanCgroupPath follows runc's CleanPath", () => {
  assert.equal(cleanCgroupPath(""), "");
  assert.equal(cleanCgroupPath("/a/b/"), "/a/b");
  assert.equal(cleanCgroupPath("/../a//b/./c"), "/a/b/c");
  assert.equal(cleanCgroupPath("../../a"), "a");
  assert.equal(cleanCgroupPath("a/../../b"), "b");
  assert.equal(cleanCgroupPath("x/y"), "x/y");
});

test("innerCgroupPath: empty means the container id, relative to our own cgroup", () => {
  assert.equal(innerCgroupPath("", "c1"), "c1");
  assert.equal(innerCgroupPath("/default/c1", "c1"), "/default/c1");
  assert.equal(innerCgroupPath("rel/c1", "c1"), "rel/c1");
  const kind = (p: string) => {
    try {
      innerCgroupPath(p, "c1");
    } catch (err) {
      return kindOf(err);
    }
    return undefined;
  };
  assert.equal(kind("system.slice:docker:abc"), ErrorKind.NotImplemented);
  assert.equal(kind(":runc:abc"), ErrorKind.NotImplemented);
  assert.equal(kind("/weird:name"), undefined);
});

test("parseProcCgroup splits co-mounted controllers and keeps the v2 entry under ''", () => {
  const m = parseProcCgroup(SELF_V1);
  assert.equal(m.get("cpu"), "/mine/cpu");
  assert.equal(m.get("cpuacct"), "/mine/cpu");
  assert.equal(m.get("name=systemd"), "/user.slice");
  assert.equal(m.get(""), "/mine/unified");
});

test("mode detection and v1 mounts on fake trees", () => {
  const v1 = fakeV1Root();
  const v2 = fakeV2Root();
  try {
    assert.equal(detectCgroupMode(v1), "hybrid");
    assert.equal(detectCgroupMode(v2), "v2");
    removeAll(path.join(v1, "unified"));
    assert.equal(detectCgroupMode(v1), "v1");
    const mounts = v1Mounts(v1);
    assert.equal(mounts.get("cpu"), path.join(v1, "cpu,cpuacct"));
    assert.equal(mounts.get("cpuacct"), path.join(v1, "cpu,cpuacct"));
    assert.equal(mounts.get("name=systemd"), path.join(v1, "systemd"));
    assert.equal(mounts.get("memory"), path.join(v1, "memory"));
  } finally {
    removeAll(v1, v2);
  }
});

test("v1 paths: absolute below each mount, relative below our own cgroup", () => {
  const root = fakeV1Root();
  const proc = fakeProc(SELF_V1);
  try {
    const abs = createCgroupManager({
      cgroupsPath: "/default/c1",
      containerId: "c1",
      root,
      procRoot: proc,
    }).paths();
    assert.deepEqual(abs, {
      cpuset: path.join(root, "cpuset/default/c1"),
      devices: path.join(root, "devices/default/c1"),
      memory: path.join(root, "memory/default/c1"),
      cpu: path.join(root, "cpu,cpuacct/default/c1"),
      cpuacct: path.join(root, "cpu,cpuacct/default/c1"),
      pids: path.join(root, "pids/default/c1"),
      blkio: path.join(root, "blkio/default/c1"),
      freezer: path.join(root, "freezer/default/c1"),
      "name=systemd": path.join(root, "systemd/default/c1"),
      "": path.join(root, "unified/default/c1"),
    });
    const rel = createCgroupManager({
      cgroupsPath: "",
      containerId: "c1",
      root,
      procRoot: proc,
    }).paths();
    assert.equal(rel.memory, path.join(root, "memory/mine/mem/c1"));
    assert.equal(rel.cpu, path.join(root, "cpu,cpuacct/mine/cpu/c1"));
    assert.equal(rel.devices, path.join(root, "devices/c1"));
    assert.equal(rel[""], path.join(root, "unified/mine/unified/c1"));
    assert.equal(rel.cpuset, undefined, "controllers missing from /proc/self/cgroup are skipped");
  } finally {
    removeAll(root, proc);
  }
});

test("v1 without a devices hierarchy is refused", () => {
  const root = fakeV1Root();
  try {
    removeAll(path.join(root, "devices"));
    assert.throws(
      () => createCgroupManager({ cgroupsPath: "/c1", containerId: "c1", root }),
      (err) => kindOf(err) === ErrorKind.NotFound,
    );
  } finally {
    removeAll(root);
  }
});

test("v2 paths: relative paths go below the parent of our own cgroup", () => {
  const root = fakeV2Root();
  const proc = fakeProc("0::/user.slice/session-1.scope\n");
  try {
    const abs = createCgroupManager({
      cgroupsPath: "/default/c1",
      containerId: "c1",
      root,
      procRoot: proc,
    });
    assert.equal(abs.version, 2);
    assert.deepEqual(abs.paths(), { "": path.join(root, "default/c1") });
    const rel = createCgroupManager({ cgroupsPath: "", containerId: "c1", root, procRoot: proc });
    assert.deepEqual(rel.paths(), { "": path.join(root, "user.slice/c1") });
  } finally {
    removeAll(root, proc);
  }
});
