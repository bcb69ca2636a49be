import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerConfig } from "../spec/config.js";
import {
  checkCommonOptions,
  criuLogSummary,
  dumpArgs,
  externalMounts,
  inheritedFds,
  restoreArgs,
} from "./criu.js";

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    ociVersion: "1.0.2",
    id: "c1",
    bundle: "/b",
    rootfs: "/b/rootfs",
    readonlyRoot: false,
    process: {} as ContainerConfig["process"],
    mounts: [],
    namespaces: [{ type: "pid" }, { type: "mount" }],
    maskedPaths: [],
    readonlyPaths: [],
    sysctl: {},
    devices: [],
    cgroupsPath: "/ns/c1",
    hooks: {} as ContainerConfig["hooks"],
    annotations: {},
    ...over,
  };
}

test("dump: tree, root, images, log, cgroups, freezer, leave-running, mounts", () => {
  const args = dumpArgs(
    42,
    "/b/rootfs",
    { imagePath: "/img", workPath: "/work", leaveRunning: true, tcpEstablished: true },
    { mounts: [{ key: "/data", val: "/data" }], freezeCgroup: "/sys/fs/cgroup/freezer/ns/c1" },
  );
  assert.deepEqual(args, [
    "dump",
    "--tree",
    "42",
    "--root",
    "/b/rootfs",
    "--images-dir",
    "/img",
    "--log-file",
    "dump.log",
    "-v4",
    "--work-dir",
    "/work",
    "--manage-cgroups",
    "--tcp-established",
    "--leave-running",
    "--freeze-cgroup",
    "/sys/fs/cgroup/freezer/ns/c1",
    "--external",
    "mnt[/data]:/data",
  ]);
});

test("pre-dump tracks memory and names no mounts; a parent adds prev-images-dir", () => {
  const pre = dumpArgs(
    1,
    "/r",
    { imagePath: "/i", preDump: true },
    { mounts: [{ key: "/a", val: "/a" }] },
  );
  assert.equal(pre[0], "pre-dump");
  assert.ok(pre.includes("--track-mem"));
  assert.ok(!pre.includes("--external"));
  const child = dumpArgs(1, "/r", { imagePath: "/i", parentPath: "../pre" }, { mounts: [] });
  assert.deepEqual(
    child.slice(child.indexOf("--prev-images-dir"), child.indexOf("--prev-images-dir") + 3),
    ["--prev-images-dir", "../pre", "--track-mem"],
  );
});

test("page server must be ADDRESS:PORT", () => {
  assert.throws(() => dumpArgs(1, "/r", { imagePath: "/i", pageServer: "nope" }, { mounts: [] }));
  const args = dumpArgs(1, "/r", { imagePath: "/i", pageServer: "10.0.0.1:27" }, { mounts: [] });
  assert.ok(args.join(" ").includes("--page-server --address 10.0.0.1 --port 27"));
});

test("restore: detached into root, pidfile, inherited pipes, cgroup roots, mode", () => {
  const args = restoreArgs(
    "/state/c1/criu-root",
    { imagePath: "/img", manageCgroupsMode: "full" },
    {
      mounts: [{ key: "/dev/null", val: "/dev/null" }],
      inheritFds: [{ fd: 1, key: "pipe:[77]" }],
      cgroupRoots: [
        { controller: "memory", path: "/ns/c1" },
        { controller: "", path: "/ns/c1" },
      ],
      pidFile: "/state/c1/criu.pid",
    },
  );
  const line = args.join(" ");
  assert.equal(args[0], "restore");
  assert.ok(
    line.includes("--restore-detached --root /state/c1/criu-root --pidfile /state/c1/criu.pid"),
  );
  assert.ok(line.includes("--manage-cgroups=full"));
  assert.ok(line.includes("--evasive-devices"));
  assert.ok(line.includes("--cgroup-root memory:/ns/c1 --cgroup-root /ns/c1"));
  assert.ok(line.includes("--inherit-fd fd[1]:pipe:[77]"));
  assert.ok(line.includes("--external mnt[/dev/null]:/dev/null"));
});

test("external mounts: binds, cgroup v1 binds per controller, masked files, devices", () => {
  const c = config({
    mounts: [
      { destination: "/data/", type: "bind", source: "/srv/data", options: ["rbind"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup" },
      { destination: "/proc", type: "proc", source: "proc" },
    ],
    maskedPaths: ["/proc/kcore", "/proc/acpi"],
    devices: [{ type: "c", path: "/dev/fuse" }],
  });
  const paths = {
    memory: "/sys/fs/cgroup/memory/ns/c1",
    "name=systemd": "/sys/fs/cgroup/systemd/ns/c1",
  };
  const dump = externalMounts(c, { paths, version: 1 }, "dump", ["/proc/kcore"]);
  assert.deepEqual(dump.slice(0, 4), [
    { key: "/data", val: "/data" },
    { key: "/sys/fs/cgroup/memory", val: "/sys/fs/cgroup/memory" },
    { key: "/sys/fs/cgroup/systemd", val: "/sys/fs/cgroup/systemd" },
    { key: "/proc/kcore", val: "/dev/null" },
  ]);
  assert.ok(dump.some((m) => m.key === "/dev/fuse"));
  const restore = externalMounts(
    c,
    {
      paths: {
        ...paths,
        "": "/sys/fs/cgroup/unified/ns/c2",
        memory: "/sys/fs/cgroup/memory/ns/c2",
      },
      version: 1,
    },
    "restore",
  );
  assert.deepEqual(restore.slice(0, 4), [
    { key: "/data", val: "/srv/data" },
    { key: "/sys/fs/cgroup/memory", val: "/sys/fs/cgroup/memory/ns/c2" },
    { key: "/sys/fs/cgroup/systemd", val: "/sys/fs/cgroup/systemd/ns/c1" },
    { key: "/dev/null", val: "/dev/null" },
  ]);
  // a hybrid host's unified hierarchy is not mounted; on v2 the cgroup is one bind; a cgroup
  // namespace means a real mount
  const unified = externalMounts(
    c,
    { paths: { "": "/sys/fs/cgroup/ns/c1" }, version: 2 },
    "restore",
  );
  assert.ok(unified.some((m) => m.key === "/sys/fs/cgroup" && m.val === "/sys/fs/cgroup/ns/c1"));
  const withNs = externalMounts(
    config({ ...c, namespaces: [{ type: "cgroup" }] }),
    { paths, version: 1 },
    "dump",
  );
  assert.ok(!withNs.some((m) => m.key.startsWith("/sys/fs/cgroup")));
});

test("pipes and external files are re-wired on restore, paths are not", () => {
  assert.deepEqual(inheritedFds(["/dev/null", "pipe:[5]", "file[1b:2a]"]), [
    { fd: 1, key: "pipe:[5]" },
    { fd: 2, key: "file[1b:2a]" },
  ]);
  const args = dumpArgs(1, "/r", { imagePath: "/i" }, { mounts: [], files: ["file[1b:2a]"] });
  assert.deepEqual(args.slice(-2), ["--external", "file[1b:2a]"]);
});

test("options are checked as runc checks them", () => {
  assert.throws(() => checkCommonOptions({ imagePath: "/i", manageCgroupsMode: "hard" }));
  assert.throws(() => checkCommonOptions({ imagePath: "/i", emptyNs: ["pid"] }));
  checkCommonOptions({ imagePath: "/i", manageCgroupsMode: "strict", emptyNs: ["network"] });
});

test("log summary: first real error with criu's version, benign lines skipped", () => {
  const dir = mkdtempSync(join(tmpdir(), "criu-log-"));
  try {
    const log = join(dir, "dump.log");
    writeFileSync(
      log,
      [
        "(00.000167) Version: 3.17.1 (gitid 0)",
        "(00.02) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
        "(00.03) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds",
        "(00.04) Error (criu/cr-dump.c:2111): Dumping FAILED.",
      ].join("\n"),
    );
    assert.equal(criuLogSummary(log), "criu 3.17.1: vdso: Unexpected rt vDSO area bounds");
    assert.equal(criuLogSummary(join(dir, "missing.log")), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
