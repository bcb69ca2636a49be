import { test } from "node:test";
import assert from "node:assert/strict";
import { PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS } from "@containerd-ts/sys/constants.js";
import { isSyscallError } from "@containerd-ts/sys/errors.js";
import { FakeExec, RecordingSyscalls } from "@containerd-ts/sys/fake.js";
import { PlanExecutor, type InitContext } from "./execute.js";
import type { InitStep } from "./plan.js";

function ctx(sys: RecordingSyscalls, events: string[] = []): InitContext {
  return {
    sys,
    extraFds: [3],
    cgroupProcsFiles: [
      "/sys/fs/cgroup/memory/c1/cgroup.procs",
      "/sys/fs/cgroup/pids/c1/cgroup.procs",
    ],
    cgroupPaths: {},
    syncHooks: () => events.push("hooks"),
    syncReady: () => events.push("ready"),
    runHooks: (name) => events.push(name),
  };
}

const tail: InitStep[] = [
  { op: "openCgroupProcs" },
  { op: "syncReady" },
  { op: "joinCgroup" },
  { op: "noNewPrivileges" },
  { op: "setUser", uid: 1000, gid: 100, additionalGids: [5] },
  { op: "capset", sets: { effective: 0n, permitted: 0n, inheritable: 0n } },
  { op: "exec", args: ["/bin/sh", "-c", "true"], env: ["A=1", "HOME=/"] },
];

test("the executor runs steps in order over the syscalls and ends in execve", () => {
  const sys = new RecordingSyscalls();
  const events: string[] = [];
  assert.throws(() => new PlanExecutor(ctx(sys, events)).run(tail), FakeExec);
  assert.deepEqual(events, ["ready"]);
  assert.deepEqual(sys.names(), [
    "open",
    "open",
    "write",
    "close",
    "write",
    "close",
    "prctl",
    "setgroups",
    "prctl",
    "setresgid",
    "setresuid",
    "prctl",
    "capset",
    "setsid",
    "resetSignals",
    "execve",
  ]);
  assert.deepEqual(
    sys.argsOf("write").map((a) => [a[0], (a[1] as Buffer).toString()]),
    [
      [100, "0"],
      [101, "0"],
    ],
  );
  assert.deepEqual(
    sys.argsOf("prctl").map((a) => a.slice(0, 2)),
    [
      [PR_SET_NO_NEW_PRIVS, 1],
      [PR_SET_KEEPCAPS, 1],
      [PR_SET_KEEPCAPS, 0],
    ],
  );
  assert.deepEqual(sys.argsOf("execve"), [
    ["/bin/sh", ["/bin/sh", "-c", "true"], ["A=1", "HOME=/"], [0, 1, 2, 3]],
  ]);
});

test("a failing syscall stops the plan and the error names the step and the call", () => {
  const sys = new RecordingSyscalls().failCall("setresuid", "EPERM");
  assert.throws(
    () => new PlanExecutor(ctx(sys)).run(tail),
    (e: unknown) =>
      isSyscallError(e, "EPERM") && e.syscall === "setresuid" && e.message.startsWith("setUser:"),
  );
  assert.ok(!sys.names().includes("execve"));
});

test("hostname, rlimits and umask go straight to their syscalls", () => {
  const sys = new RecordingSyscalls();
  new PlanExecutor(ctx(sys)).run([
    { op: "sethostname", name: "box" },
    { op: "setdomainname", name: "example" },
    { op: "setrlimit", resource: 7, soft: 64n, hard: 128n },
    { op: "umask", mask: 0o027 },
  ]);
  assert.deepEqual(sys.calls, [
    { name: "sethostname", args: ["box"] },
    { name: "setdomainname", args: ["example"] },
    { name: "setrlimit", args: [7, 64n, 128n] },
    { name: "umask", args: [0o027] },
  ]);
});

test("a cgroup mount: v1 gets a tmpfs with one bind per hierarchy, v2 a bind of the container's dir", async () => {
  const { mkdtempSync, rmSync, existsSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT } = await import(
    "@containerd-ts/sys/constants.js"
  );
  const rootfs = mkdtempSync(join(tmpdir(), "plan-cg-"));
  try {
    const flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    const v1 = new RecordingSyscalls();
    new PlanExecutor({
      ...ctx(v1),
      cgroupPaths: {
        memory: "/sys/fs/cgroup/memory/c1",
        "name=systemd": "/sys/fs/cgroup/systemd/c1",
      },
    }).run([
      { op: "bindRootfs", rootfs },
      { op: "cgroupMount", dest: "/sys/fs/cgroup", flags, readonly: true },
    ]);
    const target = join(rootfs, "sys/fs/cgroup");
    assert.deepEqual(v1.argsOf("mount"), [
      [rootfs, rootfs, null, MS_BIND | MS_REC, null],
      ["tmpfs", target, "tmpfs", flags, "mode=755"],
      ["/sys/fs/cgroup/memory/c1", join(target, "memory"), null, MS_BIND | MS_REC, null],
      [null, join(target, "memory"), null, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, null],
      ["/sys/fs/cgroup/systemd/c1", join(target, "systemd"), null, MS_BIND | MS_REC, null],
      [null, join(target, "systemd"), null, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, null],
      [null, target, null, MS_REMOUNT | MS_RDONLY | flags, null],
    ]);
    assert.ok(existsSync(join(target, "systemd")));
    const v2 = new RecordingSyscalls();
    new PlanExecutor({ ...ctx(v2), cgroupPaths: { "": "/sys/fs/cgroup/c1" } }).run([
      { op: "bindRootfs", rootfs },
      { op: "cgroupMount", dest: "/sys/fs/cgroup", flags, readonly: true },
    ]);
    assert.deepEqual(v2.argsOf("mount").slice(1), [
      ["/sys/fs/cgroup/c1", target, null, MS_BIND | MS_REC, null],
      [null, target, null, MS_BIND | MS_REMOUNT | flags | MS_RDONLY, null],
    ]);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
});
