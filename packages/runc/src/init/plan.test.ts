import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CLONE_NEWCGROUP,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SLAVE,
  S_IFCHR,
} from "@containerd-ts/sys/constants.js";
import { validateSpec } from "../spec/config.js";
import { buildInitPlan, type InitStep } from "./plan.js";

const base = {
  ociVersion: "1.0.2",
  root: { path: "rootfs", readonly: true },
  hostname: "box",
  process: {
    args: ["sh", "-c", "true"],
    env: ["PATH=/bin"],
    cwd: "/",
    user: { uid: 1000, gid: 1000, additionalGids: [10], umask: 0o022 },
    capabilities: {
      bounding: ["CAP_KILL"],
      effective: ["CAP_KILL"],
      permitted: ["CAP_KILL"],
      inheritable: [],
      ambient: [],
    },
    rlimits: [{ type: "RLIMIT_NOFILE", soft: 64, hard: 128 }],
    noNewPrivileges: true,
  },
  mounts: [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/data", type: "bind", source: "data", options: ["rbind", "ro", "rprivate"] },
  ],
  linux: {
    namespaces: [{ type: "pid" }, { type: "mount" }, { type: "uts" }, { type: "cgroup" }],
    maskedPaths: ["/proc/kcore"],
    readonlyPaths: ["/proc/sys"],
    sysctl: { "kernel.msgmax": "8192" },
  },
};

test("the init plan is the ordered list of what init does", () => {
  const config = validateSpec(base, "c1", "/b");
  const plan = buildInitPlan(config, { noPivot: false, execFifoPath: "/run/x/c1/exec.fifo" });
  const expected: InitStep[] = [
    { op: "joinSessionKeyring", name: "_ses.c1" },
    { op: "propagation", target: "/", flags: MS_SLAVE | MS_REC },
    { op: "bindRootfs", rootfs: "/b/rootfs" },
    {
      op: "mount",
      source: "proc",
      dest: "/proc",
      fstype: "proc",
      flags: 0,
      data: null,
      bind: false,
    },
    {
      op: "mount",
      source: "/b/data",
      dest: "/data",
      fstype: null,
      flags: MS_BIND | MS_REC,
      data: null,
      bind: true,
    },
    { op: "remount", dest: "/data", flags: MS_RDONLY },
    { op: "propagation", target: "/data", flags: MS_PRIVATE | MS_REC },
    { op: "mknod", dest: "/dev/null", mode: S_IFCHR | 0o666, major: 1, minor: 3, uid: 0, gid: 0 },
    { op: "mknod", dest: "/dev/zero", mode: S_IFCHR | 0o666, major: 1, minor: 5, uid: 0, gid: 0 },
    { op: "mknod", dest: "/dev/full", mode: S_IFCHR | 0o666, major: 1, minor: 7, uid: 0, gid: 0 },
    { op: "mknod", dest: "/dev/random", mode: S_IFCHR | 0o666, major: 1, minor: 8, uid: 0, gid: 0 },
    {
      op: "mknod",
      dest: "/dev/urandom",
      mode: S_IFCHR | 0o666,
      major: 1,
      minor: 9,
      uid: 0,
      gid: 0,
    },
    { op: "mknod", dest: "/dev/tty", mode: S_IFCHR | 0o666, major: 5, minor: 0, uid: 0, gid: 0 },
    { op: "symlink", target: "pts/ptmx", dest: "/dev/ptmx" },
    { op: "symlink", target: "/proc/self/fd", dest: "/dev/fd" },
    { op: "symlink", target: "/proc/self/fd/0", dest: "/dev/stdin" },
    { op: "symlink", target: "/proc/self/fd/1", dest: "/dev/stdout" },
    { op: "symlink", target: "/proc/self/fd/2", dest: "/dev/stderr" },
    { op: "openExecFifo", path: "/run/x/c1/exec.fifo" },
    { op: "openCgroupProcs" },
    { op: "syncHooks" },
    { op: "runHooks", name: "createContainer" },
    { op: "pivotRoot", rootfs: "/b/rootfs" },
    { op: "sethostname", name: "box" },
    { op: "sysctl", key: "kernel.msgmax", value: "8192" },
    { op: "readonlyPath", path: "/proc/sys" },
    { op: "maskPath", path: "/proc/kcore" },
    { op: "remountRootReadonly" },
    { op: "setrlimit", resource: 7, soft: 64n, hard: 128n },
    { op: "chdir", path: "/" },
    { op: "findExecutable", arg0: "sh", env: ["PATH=/bin"] },
    { op: "syncReady" },
    { op: "waitExecFifo" },
    { op: "runHooks", name: "startContainer" },
    { op: "signalExecFifo" },
    { op: "joinCgroup" },
    { op: "unshare", flags: CLONE_NEWCGROUP },
    { op: "noNewPrivileges" },
    { op: "dropBounding", keep: ["CAP_KILL"] },
    { op: "setUser", uid: 1000, gid: 1000, additionalGids: [10] },
    { op: "capset", sets: { effective: 1n << 5n, permitted: 1n << 5n, inheritable: 0n } },
    { op: "umask", mask: 0o022 },
    { op: "exec", args: ["sh", "-c", "true"], env: ["PATH=/bin"] },
  ];
  assert.deepEqual(plan, expected);
});

test("--no-pivot moves the rootfs instead; a bind-mounted /dev gets no device nodes", () => {
  const config = validateSpec(
    {
      ...base,
      mounts: [
        {
          destination: "/dev",
          type: "bind",
          source: "/dev",
          options: ["rbind", "nosuid", "noexec", "nodev"],
        },
      ],
    },
    "c1",
    "/b",
  );
  const plan = buildInitPlan(config, { noPivot: true, noNewKeyring: true, execFifoPath: "/f" });
  assert.ok(!plan.some((s) => s.op === "joinSessionKeyring"));
  assert.ok(plan.some((s) => s.op === "moveRoot"));
  assert.ok(!plan.some((s) => s.op === "pivotRoot"));
  assert.ok(!plan.some((s) => s.op === "mknod"));
  assert.deepEqual(
    plan.filter((s) => s.op === "remount"),
    [{ op: "remount", dest: "/dev", flags: MS_NOSUID | MS_NOEXEC | MS_NODEV }],
  );
});

test("the cgroup join comes after the fifo wait and right before privileges drop and execve", () => {
  const config = validateSpec(base, "c1", "/b");
  const ops = buildInitPlan(config, { noPivot: false, execFifoPath: "/f" }).map((s) => s.op);
  const join = ops.indexOf("joinCgroup");
  assert.ok(join > ops.indexOf("waitExecFifo"));
  assert.equal(ops.at(-1), "exec");
  assert.ok(
    ops
      .slice(join + 1)
      .every((op) => !["mount", "findExecutable", "syncReady", "runHooks"].includes(op)),
  );
});
