import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { MetricsSchema } from "@containerd-ts/gen/io/containerd/cgroups/v1/metrics_pb.js";
import { oomKillCount, v1MountPoints, v2MountPoint } from "./cgroups.js";
import { metricsAny, readMetricsV2 } from "./metrics.js";

const MOUNTINFO = [
  "30 23 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate",
  "33 23 0:29 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory",
  "34 23 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct",
].join("\n");

test("controller mount points and the unified mount come from mountinfo", () => {
  const m = v1MountPoints(MOUNTINFO);
  assert.equal(m.get("memory"), "/sys/fs/cgroup/memory");
  assert.equal(m.get("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  assert.equal(v2MountPoint(MOUNTINFO), "/sys/fs/cgroup/unified");
});

function withFiles(files: Record<string, string>, fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "shim-cg-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("v1 metrics and OOM counter from the memory/cpuacct/pids files", () =>
  withFiles(
    {
      "memory.stat": "cache 10\nrss 20\ntotal_rss 25\n",
      "memory.usage_in_bytes": "4096\n",
      "memory.limit_in_bytes": "8388608\n",
      "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
      "cpuacct.usage": "1000\n",
      "cpuacct.stat": "user 3\nsystem 1\n",
      "cpuacct.usage_percpu": "600 400 \n",
      "pids.current": "3\n",
      "pids.max": "max\n",
    },
    (dir) => {
      const cg = {
        version: 1 as const,
        paths: new Map([
          ["memory", dir],
          ["cpuacct", dir],
          ["pids", dir],
        ]),
      };
      assert.equal(oomKillCount(cg), 2n);
      const any = metricsAny(cg);
      assert.equal(any.typeUrl, "io.containerd.cgroups.v1.Metrics");
      const m = fromBinary(MetricsSchema, any.value);
      assert.equal(m.memory?.rss, 20n);
      assert.equal(m.memory?.totalRss, 25n);
      assert.equal(m.memory?.usage?.usage, 4096n);
      assert.equal(m.memory?.usage?.limit, 8388608n);
      assert.equal(m.cpu?.usage?.total, 1000n);
      assert.equal(m.cpu?.usage?.user, 30_000_000n);
      assert.deepEqual(m.cpu?.usage?.perCpu, [600n, 400n]);
      assert.equal(m.pids?.current, 3n);
      assert.equal(m.pids?.limit, 0n);
      assert.equal(m.memoryOomControl?.oomKill, 2n);
    },
  ));

test("v2 metrics from a unified cgroup directory", () =>
  withFiles(
    {
      "cpu.stat": "usage_usec 50\nuser_usec 30\nsystem_usec 20\n",
      "memory.stat": "anon 100\nfile 200\n",
      "memory.current": "300\n",
      "memory.max": "max\n",
      "memory.events": "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n",
      "io.stat": "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
      "pids.current": "2\n",
    },
    (dir) => {
      const m = readMetricsV2(dir);
      assert.equal(m.cpu?.usageUsec, 50n);
      assert.equal(m.memory?.anon, 100n);
      assert.equal(m.memory?.usage, 300n);
      assert.equal(m.memoryEvents?.oomKill, 1n);
      assert.deepEqual(
        m.io?.usage.map((e) => [e.major, e.minor, e.rbytes, e.wios]),
        [[8n, 0n, 10n, 2n]],
      );
      assert.equal(oomKillCount({ version: 2, dir }), 1n);
      assert.equal(metricsAny({ version: 2, dir }).typeUrl, "io.containerd.cgroups.v2.Metrics");
    },
  ));
