import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import {
  blkioWeightToIOWeight,
  cpuSharesToWeight,
  createCgroupManager,
  memorySwapToV2,
  RUNC_DEFAULT_DEVICE_RULES,
  type CgroupV2Stats,
  type LinuxResources,
} from "./index.js";
import { fakeV2Root, readFile, recorder, removeAll, writeFiles } from "./testutil.js";

function setup(resources?: LinuxResources) {
  const root = fakeV2Root();
  const rec = recorder(root);
  const mgr = createCgroupManager({
    cgroupsPath: "/a/b/c1",
    containerId: "c1",
    root,
    resources,
    trace: rec.trace,
  });
  return {
    root,
    mgr,
    writes: rec.writes,
    leaf: path.join(root, "a/b/c1"),
    cleanup: () => removeAll(root),
  };
}

test("conversions match runc's", () => {
  assert.equal(cpuSharesToWeight(0), 0);
  assert.equal(cpuSharesToWeight(2), 1);
  assert.equal(cpuSharesToWeight(1024), 39);
  assert.equal(cpuSharesToWeight(262144), 10000);
  assert.equal(blkioWeightToIOWeight(10), 1);
  assert.equal(blkioWeightToIOWeight(500), 4950);
  assert.equal(blkioWeightToIOWeight(1000), 10000);
  assert.equal(memorySwapToV2(0, -1), -1);
  assert.equal(memorySwapToV2(-1, 100), -1);
  assert.equal(memorySwapToV2(0, 100), 0);
  assert.equal(memorySwapToV2(300, 100), 200);
  assert.throws(
    () => memorySwapToV2(50, 100),
    (err) => kindOf(err) === ErrorKind.InvalidArgument,
  );
  assert.throws(
    () => memorySwapToV2(50, 0),
    (err) => kindOf(err) === ErrorKind.InvalidArgument,
  );
});

test("create enables controllers from the root down and writes the resources", () => {
  const { mgr, writes, cleanup, leaf } = setup({
    memory: {
      limit: 64 << 20,
      swap: 96 << 20,
      reservation: 16 << 20,
      swappiness: 30,
      disableOOMKiller: true,
    },
    cpu: { shares: 1024, quota: 50000, period: 100000, cpus: "0-1", mems: "0" },
    pids: { limit: 100 },
    blockIO: { weight: 500, throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }] },
    hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
    devices: [{ allow: false, access: "rwm" }, ...RUNC_DEFAULT_DEVICE_RULES],
    unified: { "memory.high": "50000000", "pids.max": "99" },
  });
  try {
    mgr.create();
    assert.equal(mgr.version, 2);
    assert.ok(fs.statSync(leaf).isDirectory());
    const enable = "+cpuset +cpu +io +memory +hugetlb +pids";
    assert.deepEqual(writes, [
      `cgroup.subtree_control=${enable}`,
      `a/cgroup.subtree_control=${enable}`,
      `a/b/cgroup.subtree_control=${enable}`,
      "a/b/c1/cpuset.cpus=0-1",
      "a/b/c1/cpuset.mems=0",
      `a/b/c1/memory.swap.max=${32 << 20}`,
      `a/b/c1/memory.max=${64 << 20}`,
      `a/b/c1/memory.low=${16 << 20}`,
      "a/b/c1/cpu.weight=39",
      "a/b/c1/cpu.max=50000 100000",
      "a/b/c1/pids.max=100",
      "a/b/c1/io.weight=4950",
      "a/b/c1/io.max=8:0 wiops=10",
      `a/b/c1/hugetlb.2MB.max=${4 << 20}`,
      "a/b/c1/memory.high=50000000",
      "a/b/c1/pids.max=99",
    ]);
    assert.equal(readFile(leaf, "pids.max"), "99");
  } finally {
    cleanup();
  }
});

test("v2 value edge cases: unlimited, swap disabled, quota without limit", () => {
  const { mgr, writes, cleanup } = setup();
  try {
    mgr.create();
    writes.length = 0;
    mgr.update({ memory: { limit: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } });
    assert.deepEqual(writes, [
      "a/b/c1/memory.swap.max=max",
      "a/b/c1/memory.max=max",
      "a/b/c1/cpu.max=max 100000",
      "a/b/c1/pids.max=max",
    ]);
    writes.length = 0;
    mgr.update({ memory: { limit: 1000, swap: 1000 } });
    assert.deepEqual(writes, ["a/b/c1/memory.swap.max=0", "a/b/c1/memory.max=1000"]);
  } finally {
    cleanup();
  }
});

test("unsupported settings are refused before anything is created", () => {
  const cases: [LinuxResources, ErrorKind][] = [
    [
      {
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: 4, minor: 1, access: "rw" },
        ],
      },
      ErrorKind.NotImplemented,
    ],
    [{ cpu: { realtimeRuntime: 1000 } }, ErrorKind.NotImplemented],
    [{ unified: { "../escape": "1" } }, ErrorKind.InvalidArgument],
    [{ memory: { limit: 100, swap: 50 } }, ErrorKind.InvalidArgument],
  ];
  for (const [resources, kind] of cases) {
    const { mgr, root, cleanup } = setup(resources);
    try {
      assert.throws(
        () => mgr.create(),
        (err) => kindOf(err) === kind,
        JSON.stringify(resources),
      );
      assert.equal(fs.existsSync(path.join(root, "a/b/c1")), false);
    } finally {
      cleanup();
    }
  }
});

test("a cgroup in a threaded subtree cannot take domain controllers", () => {
  const { root, mgr, cleanup } = setup({ memory: { limit: 1 << 20 } });
  try {
    writeFiles(path.join(root, "a"), { "cgroup.type": "threaded\n" });
    assert.throws(
      () => mgr.create(),
      (err) => kindOf(err) === ErrorKind.InvalidArgument,
    );
  } finally {
    cleanup();
  }
});

test("freeze waits for cgroup.events, thaw, pids, oomKillCount", () => {
  const { mgr, leaf, cleanup } = setup();
  try {
    mgr.create();
    writeFiles(leaf, { "cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 1\n" });
    assert.equal(mgr.isFrozen(), false);
    mgr.freeze();
    assert.equal(readFile(leaf, "cgroup.freeze"), "1");
    assert.equal(mgr.isFrozen(), true);
    mgr.thaw();
    assert.equal(mgr.isFrozen(), false);

    writeFiles(leaf, { "cgroup.events": "populated 1\nfrozen 0\n" });
    const slow = createCgroupManager({
      cgroupsPath: "/a/b/c1",
      containerId: "c1",
      root: path.dirname(path.dirname(path.dirname(leaf))),
      freezeTimeoutMs: 20,
    });
    assert.throws(
      () => slow.freeze(),
      (err) => kindOf(err) === ErrorKind.Unavailable,
    );
    assert.equal(readFile(leaf, "cgroup.freeze"), "0", "a freeze that never completes is undone");

    mgr.addProcess(77);
    assert.equal(readFile(leaf, "cgroup.procs"), "77");
    writeFiles(path.join(leaf, "inner"), { "cgroup.procs": "78\n" });
    assert.deepEqual(mgr.pids(), [77, 78]);

    writeFiles(leaf, { "memory.events": "low 0\nhigh 2\nmax 5\noom 1\noom_kill 1\n" });
    assert.equal(mgr.oomKillCount(), 1);
  } finally {
    cleanup();
  }
});

test("stats map cgroupfs files onto the v2 Metrics shape", () => {
  const { mgr, leaf, cleanup } = setup();
  try {
    mgr.create();
    writeFiles(leaf, {
      "pids.current": "3\n",
      "pids.max": "max\n",
      "cpu.stat":
        "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 5\nnr_throttled 1\nthrottled_usec 20\n",
      "memory.stat":
        "anon 4096\nfile 8192\nkernel_stack 16384\nslab_reclaimable 1\npgfault 99\nthp_fault_alloc 2\n",
      "memory.current": "12288\n",
      "memory.max": "max\n",
      "memory.swap.current": "0\n",
      "memory.swap.max": "0\n",
      "memory.peak": "20000\n",
      "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
      "io.stat":
        "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=0 rios=1 wios=0\n",
      "hugetlb.2MB.current": "0\n",
      "hugetlb.2MB.max": "max\n",
    });
    const s = mgr.stats() as CgroupV2Stats;
    assert.equal(s.version, 2);
    assert.deepEqual(s.pids, { current: 3n, limit: 0xffff_ffff_ffff_ffffn });
    assert.deepEqual(s.cpu, {
      usageUsec: 1000n,
      userUsec: 600n,
      systemUsec: 400n,
      nrPeriods: 5n,
      nrThrottled: 1n,
      throttledUsec: 20n,
    });
    assert.equal(s.memory?.anon, 4096n);
    assert.equal(s.memory?.kernelStack, 16384n);
    assert.equal(s.memory?.slabReclaimable, 1n);
    assert.equal(s.memory?.pgfault, 99n);
    assert.equal(s.memory?.thpFaultAlloc, 2n);
    assert.equal(s.memory?.usage, 12288n);
    assert.equal(s.memory?.usageLimit, 0xffff_ffff_ffff_ffffn);
    assert.equal(s.memory?.maxUsage, 20000n);
    assert.deepEqual(s.memoryEvents, { low: 0n, high: 0n, max: 4n, oom: 1n, oomKill: 1n });
    assert.deepEqual(s.io?.usage, [
      { major: 8n, minor: 0n, rbytes: 100n, wbytes: 200n, rios: 1n, wios: 2n },
      { major: 253n, minor: 1n, rbytes: 5n, wbytes: 0n, rios: 1n, wios: 0n },
    ]);
    assert.deepEqual(s.hugetlb, [{ pagesize: "2MB", current: 0n, max: 0xffff_ffff_ffff_ffffn }]);
  } finally {
    cleanup();
  }
});

test("destroy removes the leaf and is idempotent", () => {
  const { root, mgr, leaf, cleanup } = setup();
  try {
    mgr.create();
    writeFiles(path.join(leaf, "sub"), { "cgroup.procs": "" });
    mgr.destroy();
    assert.equal(fs.existsSync(leaf), false);
    assert.ok(fs.existsSync(path.join(root, "a/b")));
    mgr.destroy();
  } finally {
    cleanup();
  }
});
