import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import {
  MetricsSchema,
  type Metrics,
} from "@containerd-ts/gen/io/containerd/cgroups/v1/metrics_pb.js";
import {
  MetricsSchema as MetricsV2Schema,
  type Metrics as MetricsV2,
} from "@containerd-ts/gen/io/containerd/cgroups/v2/metrics_pb.js";
import { readKeyed, readText, readU64, type CgroupPaths, type ContainerCgroup } from "./cgroups.js";

// Loaded on the first Stats call only: the Metrics descriptors cost start-up time every shim pays.

/** The container's statistics as containerd's shims report them: an Any of the cgroups Metrics. */
export function metricsAny(cg: ContainerCgroup): Any {
  return cg.version === 2
    ? create(AnySchema, {
        typeUrl: MetricsV2Schema.typeName,
        value: toBinary(MetricsV2Schema, readMetricsV2(cg.dir)),
      })
    : create(AnySchema, {
        typeUrl: MetricsSchema.typeName,
        value: toBinary(MetricsSchema, readMetricsV1(cg.paths)),
      });
}

/** io.containerd.cgroups.v2.Metrics from a unified cgroup directory. */
export function readMetricsV2(dir: string): MetricsV2 {
  const cpu = readKeyed(dir, "cpu.stat");
  const mem = readKeyed(dir, "memory.stat");
  const events = readKeyed(dir, "memory.events");
  const m = (k: string) => mem.get(k) ?? 0n;
  const io = new Map<
    string,
    { major: bigint; minor: bigint; rbytes: bigint; wbytes: bigint; rios: bigint; wios: bigint }
  >();
  for (const line of readText(join(dir, "io.stat"))?.split("\n") ?? []) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const dm = dev ? /^(\d+):(\d+)$/.exec(dev) : null;
    if (!dm) continue;
    const e = {
      major: BigInt(dm[1]!),
      minor: BigInt(dm[2]!),
      rbytes: 0n,
      wbytes: 0n,
      rios: 0n,
      wios: 0n,
    };
    for (const pair of kv) {
      const [k, v] = pair.split("=");
      if (k && v && /^\d+$/.test(v) && k in e) (e as Record<string, bigint>)[k] = BigInt(v);
    }
    io.set(dev!, e);
  }
  return create(MetricsV2Schema, {
    pids: { current: readU64(dir, "pids.current"), limit: readU64(dir, "pids.max") },
    cpu: {
      usageUsec: cpu.get("usage_usec") ?? 0n,
      userUsec: cpu.get("user_usec") ?? 0n,
      systemUsec: cpu.get("system_usec") ?? 0n,
      nrPeriods: cpu.get("nr_periods") ?? 0n,
      nrThrottled: cpu.get("nr_throttled") ?? 0n,
      throttledUsec: cpu.get("throttled_usec") ?? 0n,
    },
    memory: {
      anon: m("anon"),
      file: m("file"),
      kernelStack: m("kernel_stack"),
      slab: m("slab"),
      sock: m("sock"),
      shmem: m("shmem"),
      fileMapped: m("file_mapped"),
      fileDirty: m("file_dirty"),
      fileWriteback: m("file_writeback"),
      anonThp: m("anon_thp"),
      inactiveAnon: m("inactive_anon"),
      activeAnon: m("active_anon"),
      inactiveFile: m("inactive_file"),
      activeFile: m("active_file"),
      unevictable: m("unevictable"),
      slabReclaimable: m("slab_reclaimable"),
      slabUnreclaimable: m("slab_unreclaimable"),
      pgfault: m("pgfault"),
      pgmajfault: m("pgmajfault"),
      workingsetRefault: m("workingset_refault"),
      workingsetActivate: m("workingset_activate"),
      workingsetNodereclaim: m("workingset_nodereclaim"),
      pgrefill: m("pgrefill"),
      pgscan: m("pgscan"),
      pgsteal: m("pgsteal"),
      pgactivate: m("pgactivate"),
      pgdeactivate: m("pgdeactivate"),
      pglazyfree: m("pglazyfree"),
      pglazyfreed: m("pglazyfreed"),
      thpFaultAlloc: m("thp_fault_alloc"),
      thpCollapseAlloc: m("thp_collapse_alloc"),
      usage: readU64(dir, "memory.current"),
      usageLimit: readU64(dir, "memory.max"),
      swapUsage: readU64(dir, "memory.swap.current"),
      swapLimit: readU64(dir, "memory.swap.max"),
      maxUsage: readU64(dir, "memory.peak"),
    },
    memoryEvents: {
      low: events.get("low") ?? 0n,
      high: events.get("high") ?? 0n,
      max: events.get("max") ?? 0n,
      oom: events.get("oom") ?? 0n,
      oomKill: events.get("oom_kill") ?? 0n,
    },
    io: { usage: [...io.values()] },
  });
}

const USER_HZ = 100n;
const NS_PER_SEC = 1_000_000_000n;

/** io.containerd.cgroups.v1.Metrics from the cgroup files, as containerd/cgroups' Stat reads them. */
export function readMetricsV1(paths: CgroupPaths): Metrics {
  const pidsDir = paths.get("pids");
  const cpuacct = paths.get("cpuacct");
  const cpu = paths.get("cpu");
  const mem = paths.get("memory");
  const blkio = paths.get("blkio");
  const stat = readKeyed(mem, "memory.stat");
  const s = (k: string) => stat.get(k) ?? 0n;
  const entry = (prefix: string) => ({
    usage: readU64(mem, `${prefix}usage_in_bytes`),
    max: readU64(mem, `${prefix}max_usage_in_bytes`),
    failcnt: readU64(mem, `${prefix}failcnt`),
    limit: readU64(mem, `${prefix}limit_in_bytes`),
  });
  const cpuStat = readKeyed(cpuacct, "cpuacct.stat");
  const throttle = readKeyed(cpu, "cpu.stat");
  const perCpu = (readText(cpuacct ? join(cpuacct, "cpuacct.usage_percpu") : "/nonexistent") ?? "")
    .trim()
    .split(/\s+/)
    .filter((x) => /^\d+$/.test(x))
    .map((x) => BigInt(x));
  const oom = readKeyed(mem, "memory.oom_control");
  return create(MetricsSchema, {
    pids: pidsDir
      ? { current: readU64(pidsDir, "pids.current"), limit: readU64(pidsDir, "pids.max") }
      : undefined,
    cpu: cpuacct
      ? {
          usage: {
            total: readU64(cpuacct, "cpuacct.usage"),
            user: ((cpuStat.get("user") ?? 0n) * NS_PER_SEC) / USER_HZ,
            kernel: ((cpuStat.get("system") ?? 0n) * NS_PER_SEC) / USER_HZ,
            perCpu,
          },
          throttling: {
            periods: throttle.get("nr_periods") ?? 0n,
            throttledPeriods: throttle.get("nr_throttled") ?? 0n,
            throttledTime: throttle.get("throttled_time") ?? 0n,
          },
        }
      : undefined,
    memory: mem
      ? {
          cache: s("cache"),
          rss: s("rss"),
          rssHuge: s("rss_huge"),
          mappedFile: s("mapped_file"),
          dirty: s("dirty"),
          writeback: s("writeback"),
          pgPgIn: s("pgpgin"),
          pgPgOut: s("pgpgout"),
          pgFault: s("pgfault"),
          pgMajFault: s("pgmajfault"),
          inactiveAnon: s("inactive_anon"),
          activeAnon: s("active_anon"),
          inactiveFile: s("inactive_file"),
          activeFile: s("active_file"),
          unevictable: s("unevictable"),
          hierarchicalMemoryLimit: s("hierarchical_memory_limit"),
          hierarchicalSwapLimit: s("hierarchical_memsw_limit"),
          totalCache: s("total_cache"),
          totalRss: s("total_rss"),
          totalRssHuge: s("total_rss_huge"),
          totalMappedFile: s("total_mapped_file"),
          totalDirty: s("total_dirty"),
          totalWriteback: s("total_writeback"),
          totalPgPgIn: s("total_pgpgin"),
          totalPgPgOut: s("total_pgpgout"),
          totalPgFault: s("total_pgfault"),
          totalPgMajFault: s("total_pgmajfault"),
          totalInactiveAnon: s("total_inactive_anon"),
          totalActiveAnon: s("total_active_anon"),
          totalInactiveFile: s("total_inactive_file"),
          totalActiveFile: s("total_active_file"),
          totalUnevictable: s("total_unevictable"),
          usage: entry("memory."),
          swap: entry("memory.memsw."),
          kernel: entry("memory.kmem."),
          kernelTcp: entry("memory.kmem.tcp."),
        }
      : undefined,
    memoryOomControl: mem
      ? {
          oomKillDisable: oom.get("oom_kill_disable") ?? 0n,
          underOom: oom.get("under_oom") ?? 0n,
          oomKill: oom.get("oom_kill") ?? 0n,
        }
      : undefined,
    blkio: blkio
      ? {
          ioServiceBytesRecursive: blkioEntries(blkio, "blkio.throttle.io_service_bytes"),
          ioServicedRecursive: blkioEntries(blkio, "blkio.throttle.io_serviced"),
        }
      : undefined,
  });
}

function blkioEntries(dir: string, file: string) {
  const out: Array<{ op: string; device: string; major: bigint; minor: bigint; value: bigint }> =
    [];
  for (const line of readText(join(dir, file))?.split("\n") ?? []) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m)
      out.push({
        op: m[3]!,
        device: "",
        major: BigInt(m[1]!),
        minor: BigInt(m[2]!),
        value: BigInt(m[4]!),
      });
  }
  return out;
}
