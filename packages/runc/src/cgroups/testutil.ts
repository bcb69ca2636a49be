// Fake cgroupfs trees in temp dirs for the unit tests (plain files stand in for control files).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CgroupTrace } from "./types.js";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files))
    fs.writeFileSync(path.join(dir, name), content);
}

export function readFile(dir: string, name: string): string {
  return fs.readFileSync(path.join(dir, name), "utf8");
}

/** Records the manager's writes as "relative/path=value". */
export function recorder(root: string): { trace: CgroupTrace; writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    trace: (op, p, value) => {
      if (op === "write") writes.push(`${path.relative(root, p)}=${value}`);
    },
  };
}

/**
 * A v1 host like this one, but with cpu and cpuacct co-mounted ("cpu,cpuacct" plus symlinks)
 * to exercise that layout, and a v2 mount at unified/ (hybrid).
 */
export function fakeV1Root(): string {
  const root = tempDir("cgv1-");
  writeFiles(path.join(root, "cpuset"), {
    "cpuset.cpus": "0-3\n",
    "cpuset.mems": "0\n",
    "cgroup.procs": "",
  });
  for (const c of ["memory", "devices", "freezer", "pids", "blkio", "systemd", "cpu,cpuacct"]) {
    writeFiles(path.join(root, c), { "cgroup.procs": "" });
  }
  fs.symlinkSync("cpu,cpuacct", path.join(root, "cpu"));
  fs.symlinkSync("cpu,cpuacct", path.join(root, "cpuacct"));
  writeFiles(path.join(root, "unified"), { "cgroup.controllers": "" });
  return root;
}

/** What the kernel would create in a new v1 memory cgroup (the subset the manager reads). */
export function populateV1Leaf(root: string, inner: string): void {
  writeFiles(path.join(root, "memory", inner), {
    "memory.limit_in_bytes": "9223372036854771712\n",
    "memory.memsw.limit_in_bytes": "9223372036854771712\n",
  });
  writeFiles(path.join(root, "cpu,cpuacct", inner), { "cpu.shares": "1024\n" });
}

export function fakeV2Root(): string {
  const root = tempDir("cgv2-");
  writeFiles(root, {
    "cgroup.controllers": "cpuset cpu io memory hugetlb pids\n",
    "cgroup.subtree_control": "",
    "cgroup.procs": "",
  });
  return root;
}

export function fakeProc(cgroupContent: string, partitions = ""): string {
  const proc = tempDir("proc-");
  writeFiles(path.join(proc, "self"), { cgroup: cgroupContent });
  fs.writeFileSync(path.join(proc, "partitions"), partitions);
  return proc;
}

export function removeAll(...dirs: string[]): void {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
