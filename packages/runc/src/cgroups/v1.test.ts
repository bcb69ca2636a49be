import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import {
  createCgroupManager,
  normalizeDeviceRule,
  RUNC_DEFAULT_DEVICE_RULES,
  v1DeviceString,
  withRuncDefaultDevices,
  type CgroupV1Stats,
  type LinuxResources,
} from "./index.js";
import {
  fakeProc,
  fakeV1Root,
  populateV1Leaf,
  readFile,
  recorder,
  removeAll,
  writeFiles,
} from "./testutil.js";

function setup(resources?: LinuxResources, inner = "/parent/c1") {
  const root = fakeV1Root();
  const proc = fakeProc(
    "",
    "major minor  #blocks  name\n\n   8        0   10485760 sda\n 253        1     102400 vda1\n",
  );
  const rec = recorder(root);
  const mgr = createCgroupManager({
    cgroupsPath: inner,
    containerId: "c1",
    root,
    procRoot: proc,
    resources,
    trace: rec.trace,
  });
  return { root, proc, mgr, writes: rec.writes, cleanup: () => removeAll(root, proc) };
}

test("create makes the cgroup in every hierarchy and copies cpuset values into new levels", () => {
  const { root, mgr, cleanup } = setup(undefined, "/top/parent/c1");
  try {
    // an existing level left with empty cpuset values gets them too
    writeFiles(path.join(root, "cpuset/top"), { "cpuset.cpus": "\n", "cpuset.mems": "\n" });
    mgr.create();
    for (const dir of Object.values(mgr.paths())) assert.ok(fs.statSync(dir).isDirectory(), dir);
    for (const level of ["cpuset/top", "cpuset/top/parent", "cpuset/top/parent/c1"]) {
      assert.equal(readFile(path.join(root, level), "cpuset.cpus"), "0-3");
      assert.equal(readFile(path.join(root, level), "cpuset.mems"), "0");
    }
    assert.ok(mgr.exists());
  } finally {
    cleanup();
  }
});

test("resources are written as runc writes them", () => {
  const resources: LinuxResources = {
    memory: {
      limit: 64 << 20,
      swap: 128 << 20,
      reservation: 32 << 20,
      swappiness: 10,
      disableOOMKiller: true,
    },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: "1", mems: "0" },
    pids: { limit: 42 },
    blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
    devices: [
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 4, minor: 1, access: "rw" },
    ],
  };
  const { root, mgr, writes, cleanup } = setup(resources);
  try {
    populateV1Leaf(root, "parent/c1");
    writeFiles(path.join(root, "cpu,cpuacct/parent/c1"), { "cpu.shares": "512" });
    mgr.create();
    const leaf = "parent/c1";
    assert.deepEqual(
      writes.filter((w) => !w.startsWith("cpuset")),
      [
        `devices/${leaf}/devices.deny=a`,
        `devices/${leaf}/devices.deny=a`,
        `devices/${leaf}/devices.allow=c 4:1 rw`,
        // runc's defaults follow the spec's rules
        ...RUNC_DEFAULT_DEVICE_RULES.map(
          (r, i) => `devices/${leaf}/devices.allow=${v1DeviceString(normalizeDeviceRule(r, i))}`,
        ),
        // limit grows from unlimited: memory first, then memory+swap
        `memory/${leaf}/memory.limit_in_bytes=${64 << 20}`,
        `memory/${leaf}/memory.memsw.limit_in_bytes=${128 << 20}`,
        `memory/${leaf}/memory.soft_limit_in_bytes=${32 << 20}`,
        `memory/${leaf}/memory.oom_control=1`,
        `memory/${leaf}/memory.swappiness=10`,
        `cpu,cpuacct/${leaf}/cpu.shares=512`,
        `cpu,cpuacct/${leaf}/cpu.cfs_period_us=100000`,
        `cpu,cpuacct/${leaf}/cpu.cfs_quota_us=50000`,
        `pids/${leaf}/pids.max=42`,
        `blkio/${leaf}/blkio.weight=300`,
        `blkio/${leaf}/blkio.throttle.read_bps_device=8:0 1048576`,
      ],
    );
    assert.ok(writes.includes(`cpuset/${leaf}/cpuset.cpus=1`));
    assert.equal(readFile(path.join(root, "cpuset", leaf), "cpuset.cpus"), "1");
  } finally {
    cleanup();
  }
});

test("memory+swap is raised before the memory limit when it would otherwise be below it", () => {
  const { root, mgr, writes, cleanup } = setup();
  try {
    populateV1Leaf(root, "parent/c1");
    mgr.create();
    writeFiles(path.join(root, "memory/parent/c1"), { "memory.limit_in_bytes": String(64 << 20) });
    writes.length = 0;
    mgr.update({ memory: { limit: 256 << 20, swap: 512 << 20 } });
    assert.deepEqual(writes, [
      `memory/parent/c1/memory.memsw.limit_in_bytes=${512 << 20}`,
      `memory/parent/c1/memory.limit_in_bytes=${256 << 20}`,
    ]);
    writes.length = 0;
    mgr.update({ memory: { limit: -1 } });
    assert.deepEqual(writes, [
      "memory/parent/c1/memory.memsw.limit_in_bytes=-1",
      "memory/parent/c1/memory.limit_in_bytes=-1",
    ]);
    writes.length = 0;
    mgr.update({ pids: { limit: -1 } });
    assert.deepEqual(writes, ["pids/parent/c1/pids.max=max"]);
  } finally {
    cleanup();
  }
});

test("swap is skipped without swap accounting; bad values fail and leave nothing behind", () => {
  const { mgr, writes, cleanup } = setup({ memory: { limit: 1 << 20, swap: 2 << 20 } });
  try {
    mgr.create();
    assert.deepEqual(
      writes.filter((w) => w.startsWith("memory")),
      [`memory/parent/c1/memory.limit_in_bytes=${1 << 20}`],
    );
  } finally {
    cleanup();
  }
  const bad = setup({ memory: { swappiness: 200 } });
  try {
    assert.throws(
      () => bad.mgr.create(),
      (err) => kindOf(err) === ErrorKind.InvalidArgument,
    );
    for (const dir of Object.values(bad.mgr.paths())) assert.equal(fs.existsSync(dir), false, dir);
    assert.ok(fs.existsSync(path.join(bad.root, "memory/parent")), "parents stay, as with runc");
  } finally {
    bad.cleanup();
  }
  const unified = setup({ unified: { "memory.high": "1000" } });
  try {
    assert.throws(
      () => unified.mgr.create(),
      (err) => kindOf(err) === ErrorKind.InvalidArgument,
    );
  } finally {
    unified.cleanup();
  }
});

test("cpu shares clamped by the kernel are reported", () => {
  const { root, mgr, cleanup } = setup();
  try {
    mgr.create();
    // simulate the kernel clamping: the file reads back something other than what was written
    const dir = path.join(root, "cpu,cpuacct/parent/c1");
    fs.rmSync(path.join(dir, "cpu.shares"), { force: true });
    fs.symlinkSync("/dev/null", path.join(dir, "cpu.shares"));
    assert.throws(
      () => mgr.update({ cpu: { shares: 1 } }),
      (err) => kindOf(err) === ErrorKind.InvalidArgument,
    );
  } finally {
    cleanup();
  }
});

test("addProcess, pids, freeze/thaw, oomKillCount", () => {
  const { root, mgr, writes, cleanup } = setup();
  try {
    mgr.create();
    writes.length = 0;
    mgr.addProcess(1234);
    const procsWrites = writes.filter((w) => w.endsWith("cgroup.procs=1234"));
    // one write per distinct directory (cpu and cpuacct share one), including systemd and unified
    assert.equal(procsWrites.length, 9);
    writeFiles(path.join(root, "pids/parent/c1"), { "cgroup.procs": "30\n10\n" });
    writeFiles(path.join(root, "pids/parent/c1/sub"), { "cgroup.procs": "20\n10\n" });
    assert.deepEqual(mgr.pids(), [10, 20, 30]);

    assert.equal(mgr.isFrozen(), false);
    mgr.freeze();
    assert.equal(readFile(path.join(root, "freezer/parent/c1"), "freezer.state"), "FROZEN");
    assert.equal(mgr.isFrozen(), true);
    mgr.thaw();
    assert.equal(mgr.isFrozen(), false);

    assert.equal(mgr.oomKillCount(), 0);
    writeFiles(path.join(root, "memory/parent/c1"), {
      "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
    });
    assert.equal(mgr.oomKillCount(), 3);
  } finally {
    cleanup();
  }
});

test("stats map cgroupfs files onto the v1 Metrics shape", () => {
  const { root, mgr, cleanup } = setup();
  try {
    mgr.create();
    const at = (c: string) => path.join(root, c, "parent/c1");
    writeFiles(at("memory"), {
      "memory.stat":
        "cache 4096\nrss 8192\nrss_huge 0\nmapped_file 1\npgpgin 7\npgmajfault 2\nhierarchical_memory_limit 67108864\nhierarchical_memsw_limit 134217728\ntotal_cache 5\ntotal_rss 6\ntotal_pgfault 9\n",
      "memory.usage_in_bytes": "12288\n",
      "memory.max_usage_in_bytes": "20000\n",
      "memory.limit_in_bytes": "67108864\n",
      "memory.failcnt": "1\n",
      "memory.memsw.usage_in_bytes": "13000\n",
      "memory.memsw.limit_in_bytes": "9223372036854771712\n",
      "memory.oom_control": "oom_kill_disable 1\nunder_oom 0\noom_kill 2\n",
    });
    writeFiles(at("cpu,cpuacct"), {
      "cpuacct.usage": "123456789\n",
      "cpuacct.usage_percpu": "100 200 \n",
      "cpuacct.stat": "user 150\nsystem 25\n",
      "cpu.stat": "nr_periods 10\nnr_throttled 3\nthrottled_time 5000\n",
    });
    writeFiles(at("pids"), { "pids.current": "4\n", "pids.max": "max\n" });
    writeFiles(at("blkio"), {
      "blkio.io_serviced_recursive": "",
      "blkio.throttle.io_service_bytes":
        "8:0 Read 4096\n8:0 Write 8192\n253:1 Read 1\nTotal 12289\n",
      "blkio.throttle.io_serviced": "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
    });
    const s = mgr.stats() as CgroupV1Stats;
    assert.equal(s.version, 1);
    assert.deepEqual(s.pids, { current: 4n, limit: 0n });
    assert.deepEqual(s.cpu, {
      usage: {
        total: 123456789n,
        perCpu: [100n, 200n],
        user: 1_500_000_000n,
        kernel: 250_000_000n,
      },
      throttling: { periods: 10n, throttledPeriods: 3n, throttledTime: 5000n },
    });
    assert.equal(s.memory?.cache, 4096n);
    assert.equal(s.memory?.rss, 8192n);
    assert.equal(s.memory?.pgPgIn, 7n);
    assert.equal(s.memory?.pgMajFault, 2n);
    assert.equal(s.memory?.hierarchicalSwapLimit, 134217728n);
    assert.equal(s.memory?.totalPgFault, 9n);
    assert.deepEqual(s.memory?.usage, {
      usage: 12288n,
      max: 20000n,
      limit: 67108864n,
      failcnt: 1n,
    });
    assert.equal(s.memory?.swap.usage, 13000n);
    assert.equal(s.memory?.swap.limit, 9223372036854771712n);
    assert.deepEqual(s.memory?.kernel, { usage: 0n, max: 0n, limit: 0n, failcnt: 0n });
    assert.deepEqual(s.memoryOomControl, { oomKillDisable: 1n, underOom: 0n, oomKill: 2n });
    assert.equal(s.memoryRaw?.cache, 4096n);
    assert.deepEqual(s.blkio?.ioServiceBytesRecursive, [
      { op: "Read", device: "/dev/sda", major: 8n, minor: 0n, value: 4096n },
      { op: "Write", device: "/dev/sda", major: 8n, minor: 0n, value: 8192n },
      { op: "Read", device: "/dev/vda1", major: 253n, minor: 1n, value: 1n },
    ]);
    assert.equal(s.blkio?.ioServicedRecursive.length, 2);
    assert.deepEqual(s.hugetlb, []);
  } finally {
    cleanup();
  }
});

test("destroy removes every directory, tolerates missing ones and sub-cgroups", () => {
  const { root, mgr, cleanup } = setup();
  try {
    mgr.create();
    writeFiles(path.join(root, "memory/parent/c1/child"), { "cgroup.procs": "" });
    removeAll(path.join(root, "pids/parent/c1"));
    mgr.destroy();
    for (const dir of Object.values(mgr.paths())) assert.equal(fs.existsSync(dir), false, dir);
    assert.equal(mgr.exists(), false);
    mgr.destroy();
    assert.equal(mgr.isFrozen(), false);
  } finally {
    cleanup();
  }
});

test("device rules: runc's defaults are appended unless replaced or disabled", () => {
  const spec = [{ allow: false, access: "rwm" }];
  const merged = withRuncDefaultDevices(spec, ["/dev/null"]);
  assert.deepEqual(merged[0], spec[0]);
  assert.equal(merged.length, RUNC_DEFAULT_DEVICE_RULES.length);
  assert.ok(!merged.some((r) => r.major === 1 && r.minor === 3), "/dev/null default replaced");

  const { root, proc, writes, cleanup } = setup();
  try {
    const plainRec = recorder(root);
    const plain = createCgroupManager({
      cgroupsPath: "/plain",
      containerId: "plain",
      root,
      procRoot: proc,
      defaultDevices: false,
      trace: plainRec.trace,
    });
    plain.create();
    assert.deepEqual(
      plainRec.writes.filter((w) => w.startsWith("devices/")),
      [],
      "without defaults and without rules the devices cgroup is untouched",
    );
    const withDefaults = createCgroupManager({
      cgroupsPath: "/d",
      containerId: "d",
      root,
      procRoot: proc,
      trace: (op, p, v) => op === "write" && writes.push(`${path.relative(root, p)}=${v}`),
    });
    withDefaults.create();
    const deviceWrites = writes.filter((w) => w.startsWith("devices/"));
    assert.equal(deviceWrites.length, 1 + RUNC_DEFAULT_DEVICE_RULES.length);
    writes.length = 0;
    withDefaults.update({ pids: { limit: 5 } });
    assert.deepEqual(writes, ["pids/d/pids.max=5"], "an update without devices leaves them alone");
  } finally {
    cleanup();
  }
});
