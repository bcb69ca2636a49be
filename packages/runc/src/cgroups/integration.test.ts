// Against the real cgroup v1 hierarchy of this host: needs root; skipped elsewhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { once } from "node:events";
import {
  createCgroupManager,
  normalizeDeviceRule,
  RUNC_DEFAULT_DEVICE_RULES,
  v1DeviceString,
  detectCgroupMode,
  type CgroupManager,
  type CgroupV1Stats,
} from "./index.js";

const BUSYBOX = "/bin/busybox";
const runnable =
  process.getuid?.() === 0 &&
  ["v1", "hybrid"].includes(detectCgroupMode()) &&
  fs.existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") &&
  fs.existsSync(BUSYBOX);

const MB = 1 << 20;

/** A busybox shell that waits for a line on stdin, then execs `then`. */
function gatedChild(then: string): ChildProcess {
  return spawn(BUSYBOX, ["sh", "-c", `read x; exec ${then}`], {
    stdio: ["pipe", "ignore", "ignore"],
  });
}

async function reap(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

function waitUntil(cond: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let tries = 0;
    const tick = () => {
      if (cond()) return resolve();
      if (++tries > 500) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

function comm(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
}

function procState(pid: number): string {
  return /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "?";
}

test(
  "real v1 cgroup: limits, membership, stats, freeze, OOM, destroy",
  { skip: !runnable && "needs root and cgroup v1" },
  async () => {
    const name = `/containerd-ts-cgtest-${process.pid}-${randomBytes(4).toString("hex")}`;
    const mgr: CgroupManager = createCgroupManager({
      cgroupsPath: name,
      containerId: "cgtest",
      resources: {
        memory: { limit: 64 * MB, swap: 64 * MB },
        pids: { limit: 32 },
        cpu: { shares: 512, quota: 50000, period: 100000 },
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
          { allow: true, type: "c", major: 1, minor: 5, access: "r" },
          { allow: true, type: "c", major: 4, minor: 1, access: "r" },
        ],
      },
    });
    const children: ChildProcess[] = [];
    try {
      mgr.create();
      const dirs = mgr.paths();
      assert.equal(
        fs.readFileSync(path.join(dirs.memory!, "memory.limit_in_bytes"), "utf8").trim(),
        String(64 * MB),
      );
      assert.equal(fs.readFileSync(path.join(dirs.pids!, "pids.max"), "utf8").trim(), "32");
      assert.equal(
        fs.readFileSync(path.join(dirs.cpu!, "cpu.cfs_quota_us"), "utf8").trim(),
        "50000",
      );
      // the spec's rules, then runc's defaults (the kernel merges c 1:5 r into c 1:5 rwm)
      const listed = fs
        .readFileSync(path.join(dirs.devices!, "devices.list"), "utf8")
        .trim()
        .split("\n");
      const expected = ["c 1:3 rwm", "c 4:1 r", "c 1:5 rwm"].concat(
        RUNC_DEFAULT_DEVICE_RULES.map((r, i) => v1DeviceString(normalizeDeviceRule(r, i))),
      );
      assert.deepEqual([...new Set(listed)].sort(), [...new Set(expected)].sort());

      const sleeper = gatedChild("sleep 1000");
      children.push(sleeper);
      mgr.addProcess(sleeper.pid!);
      sleeper.stdin!.write("go\n");
      const own = fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8");
      assert.match(own, new RegExp(`:memory:${name}$`, "m"));
      assert.match(own, new RegExp(`:freezer:${name}$`, "m"));
      assert.deepEqual(mgr.pids(), [sleeper.pid]);
      // charges land once the exec'd sleep has faulted its pages in
      await waitUntil(() => comm(sleeper.pid!) === "sleep", "the child to exec sleep");

      const stats = mgr.stats() as CgroupV1Stats;
      assert.equal(stats.version, 1);
      assert.equal(stats.memory?.usage.limit, BigInt(64 * MB));
      assert.ok((stats.memory?.usage.usage ?? 0n) > 0n);
      assert.deepEqual(stats.pids, { current: 1n, limit: 32n });
      assert.ok((stats.cpu?.usage.total ?? 0n) > 0n);

      mgr.freeze();
      assert.equal(mgr.isFrozen(), true);
      assert.equal(
        fs.readFileSync(path.join(dirs.freezer!, "freezer.state"), "utf8").trim(),
        "FROZEN",
      );
      mgr.thaw();
      assert.equal(mgr.isFrozen(), false);
      await waitUntil(() => procState(sleeper.pid!) === "S", "the thawed sleep to be sleeping");

      mgr.update({ pids: { limit: 8 }, memory: { limit: 16 * MB, swap: 16 * MB } });
      assert.equal(fs.readFileSync(path.join(dirs.pids!, "pids.max"), "utf8").trim(), "8");

      // a 32 MB buffer under a 16 MB memory+swap limit gets the task OOM-killed
      const before = mgr.oomKillCount();
      const hog = gatedChild(`${BUSYBOX} dd if=/dev/zero of=/dev/null bs=32M count=1`);
      children.push(hog);
      mgr.addProcess(hog.pid!);
      const exited = once(hog, "exit");
      hog.stdin!.write("go\n");
      const [code, signal] = await exited;
      assert.equal(signal, "SIGKILL", `dd exited with ${code}`);
      assert.ok(mgr.oomKillCount() > before, "oom_kill counter moved");
    } finally {
      try {
        if (mgr.isFrozen()) mgr.thaw();
      } catch {
        // best effort before killing
      }
      for (const c of children) await reap(c);
      mgr.destroy();
    }
    for (const dir of Object.values(mgr.paths()))
      assert.equal(fs.existsSync(dir), false, `${dir} left behind`);
  },
);
