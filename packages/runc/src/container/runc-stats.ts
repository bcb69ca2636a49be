import type {
  CgroupStats,
  CgroupV1Stats,
  CgroupV2Stats,
  V1BlkIOEntry,
  V1MemoryEntry,
} from "../cgroups/types.js";

// `runc events` prints runc's types.Stats: this maps the cgroups module's stats onto it.
// Go's omitempty drops zero numbers, empty strings/lists/maps; the rest is always present.

type Json = Record<string, unknown>;

function omitEmpty(o: Json, keep: readonly string[] = []): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    const empty =
      v === undefined ||
      v === 0n ||
      v === 0 ||
      v === "" ||
      (Array.isArray(v) && v.length === 0) ||
      (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
    if (!empty || keep.includes(k)) out[k] = v;
  }
  return out;
}

function memoryEntry(e: V1MemoryEntry | undefined): Json {
  return omitEmpty(
    { limit: e?.limit ?? 0n, usage: e?.usage, max: e?.max, failcnt: e?.failcnt ?? 0n },
    ["limit", "failcnt"],
  );
}

function blkio(list: V1BlkIOEntry[] | undefined): Json[] {
  return (list ?? []).map((e) =>
    omitEmpty({ major: e.major, minor: e.minor, op: e.op, value: e.value }),
  );
}

function v1(s: CgroupV1Stats): Json {
  const m = s.memory;
  return {
    cpu: {
      usage: omitEmpty(
        {
          total: s.cpu?.usage.total,
          percpu: s.cpu?.usage.perCpu,
          kernel: s.cpu?.usage.kernel ?? 0n,
          user: s.cpu?.usage.user ?? 0n,
        },
        ["kernel", "user"],
      ),
      throttling: omitEmpty({
        periods: s.cpu?.throttling.periods,
        throttledPeriods: s.cpu?.throttling.throttledPeriods,
        throttledTime: s.cpu?.throttling.throttledTime,
      }),
    },
    memory: omitEmpty({
      cache: m?.cache,
      usage: memoryEntry(m?.usage),
      swap: memoryEntry(m?.swap),
      kernel: memoryEntry(m?.kernel),
      kernelTCP: memoryEntry(m?.kernelTcp),
      raw: s.memoryRaw,
    }),
    pids: omitEmpty({ current: s.pids?.current, limit: s.pids?.limit }),
    blkio: omitEmpty({
      ioServiceBytesRecursive: blkio(s.blkio?.ioServiceBytesRecursive),
      ioServicedRecursive: blkio(s.blkio?.ioServicedRecursive),
      ioQueueRecursive: blkio(s.blkio?.ioQueuedRecursive),
      ioServiceTimeRecursive: blkio(s.blkio?.ioServiceTimeRecursive),
      ioWaitTimeRecursive: blkio(s.blkio?.ioWaitTimeRecursive),
      ioMergedRecursive: blkio(s.blkio?.ioMergedRecursive),
      ioTimeRecursive: blkio(s.blkio?.ioTimeRecursive),
      sectorsRecursive: blkio(s.blkio?.sectorsRecursive),
    }),
    hugetlb: Object.fromEntries(
      (s.hugetlb ?? []).map((h) => [
        h.pagesize,
        omitEmpty({ usage: h.usage, max: h.max, failcnt: h.failcnt }, ["failcnt"]),
      ]),
    ),
  };
}

function v2(s: CgroupV2Stats): Json {
  const m = s.memory;
  // runc reports v2 CPU time in nanoseconds, like v1
  const ns = (us: bigint | undefined) => (us ?? 0n) * 1000n;
  return {
    cpu: {
      usage: omitEmpty(
        { total: ns(s.cpu?.usageUsec), kernel: ns(s.cpu?.systemUsec), user: ns(s.cpu?.userUsec) },
        ["kernel", "user"],
      ),
      throttling: omitEmpty({
        periods: s.cpu?.nrPeriods,
        throttledPeriods: s.cpu?.nrThrottled,
        throttledTime: ns(s.cpu?.throttledUsec),
      }),
    },
    memory: omitEmpty({
      cache: m?.file,
      usage: omitEmpty(
        { limit: m?.usageLimit ?? 0n, usage: m?.usage, max: m?.maxUsage, failcnt: 0n },
        ["limit", "failcnt"],
      ),
      swap: omitEmpty(
        { limit: m?.swapLimit ?? 0n, usage: m?.swapUsage, max: m?.swapMaxUsage, failcnt: 0n },
        ["limit", "failcnt"],
      ),
      kernel: { limit: 0n, failcnt: 0n },
      kernelTCP: { limit: 0n, failcnt: 0n },
      raw: s.memoryRaw,
    }),
    pids: omitEmpty({ current: s.pids?.current, limit: s.pids?.limit }),
    blkio: omitEmpty({
      ioServiceBytesRecursive: (s.io?.usage ?? []).flatMap((e) => [
        omitEmpty({ major: e.major, minor: e.minor, op: "Read", value: e.rbytes }),
        omitEmpty({ major: e.major, minor: e.minor, op: "Write", value: e.wbytes }),
      ]),
      ioServicedRecursive: (s.io?.usage ?? []).flatMap((e) => [
        omitEmpty({ major: e.major, minor: e.minor, op: "Read", value: e.rios }),
        omitEmpty({ major: e.major, minor: e.minor, op: "Write", value: e.wios }),
      ]),
    }),
    hugetlb: Object.fromEntries(
      (s.hugetlb ?? []).map((h) => [
        h.pagesize,
        omitEmpty({ usage: h.current, max: h.max, failcnt: 0n }, ["failcnt"]),
      ]),
    ),
  };
}

/** The cgroups module's stats as runc's types.Stats JSON object (bigints stay bigints). */
export function toRuncStats(stats: CgroupStats): Json {
  const c = stats.version === 2 ? v2(stats) : v1(stats);
  // Go's field order
  return {
    cpu: c.cpu,
    cpuset: {
      cpu_exclusive: 0,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: c.memory,
    pids: c.pids,
    blkio: c.blkio,
    hugetlb: c.hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}
