import { test } from "node:test";
import assert from "node:assert/strict";
import type { CgroupV1Stats, CgroupV2Stats } from "../cgroups/types.js";
import { toRuncStats } from "./runc-stats.js";

const entry = (limit: bigint, usage: bigint) => ({ limit, usage, max: usage, failcnt: 0n });

test("v1 stats map onto runc's types.Stats with Go's omitempty", () => {
  const s = {
    version: 1,
    hugetlb: [{ pagesize: "2MB", usage: 0n, max: 0n, failcnt: 0n }],
    pids: { current: 2n, limit: 0n },
    cpu: {
      usage: { total: 10n, kernel: 0n, user: 10n, perCpu: [4n, 6n] },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    memory: {
      cache: 5n,
      usage: entry(100n, 50n),
      swap: entry(0n, 0n),
      kernel: entry(0n, 0n),
      kernelTcp: entry(0n, 0n),
    },
    memoryRaw: { rss: 7n },
  } as unknown as CgroupV1Stats;
  const r = toRuncStats(s);
  assert.deepEqual(Object.keys(r), [
    "cpu",
    "cpuset",
    "memory",
    "pids",
    "blkio",
    "hugetlb",
    "intel_rdt",
    "network_interfaces",
  ]);
  assert.deepEqual(r.cpu, {
    usage: { total: 10n, percpu: [4n, 6n], kernel: 0n, user: 10n },
    throttling: {},
  });
  assert.deepEqual(r.pids, { current: 2n });
  assert.deepEqual((r.memory as Record<string, unknown>).usage, {
    limit: 100n,
    usage: 50n,
    max: 50n,
    failcnt: 0n,
  });
  assert.deepEqual((r.memory as Record<string, unknown>).swap, { limit: 0n, failcnt: 0n });
  assert.equal((r.memory as Record<string, unknown>).cache, 5n);
  assert.deepEqual(r.hugetlb, { "2MB": { failcnt: 0n } });
  assert.equal(r.network_interfaces, null);
});

test("v2 CPU times become nanoseconds; io splits into Read/Write entries", () => {
  const s = {
    version: 2,
    hugetlb: [],
    cpu: {
      usageUsec: 3n,
      userUsec: 2n,
      systemUsec: 1n,
      nrPeriods: 0n,
      nrThrottled: 0n,
      throttledUsec: 0n,
    },
    io: { usage: [{ major: 8n, minor: 0n, rbytes: 10n, wbytes: 0n, rios: 1n, wios: 0n }] },
  } as unknown as CgroupV2Stats;
  const r = toRuncStats(s);
  assert.deepEqual((r.cpu as Record<string, unknown>).usage, {
    total: 3000n,
    kernel: 1000n,
    user: 2000n,
  });
  assert.deepEqual((r.blkio as Record<string, unknown>).ioServiceBytesRecursive, [
    { major: 8n, op: "Read", value: 10n },
    { major: 8n, op: "Write" },
  ]);
});
