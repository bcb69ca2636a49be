// cgroup v2 statistics, shaped like io.containerd.cgroups.v2.Metrics (see types.ts).
import { CgroupFs, parseKeyValues, parseU64, U64_MAX } from "./fsutil.js";
import type { CgroupV2Stats, V2HugeTlbStat, V2IOEntry, V2MemoryStat } from "./types.js";

export function readV2Stats(cfs: CgroupFs, dir: string): CgroupV2Stats {
  // containerd's v2 reader reports "max" as the largest uint64 (v1 uses 0)
  const u64 = (file: string): bigint => {
    const v = cfs.readOptional(dir, file);
    return v === undefined || v === "" ? 0n : parseU64(v, U64_MAX);
  };
  const out: CgroupV2Stats = { version: 2, hugetlb: hugetlbStats(cfs, dir) };
  if (cfs.exists(dir, "pids.current"))
    out.pids = { current: u64("pids.current"), limit: u64("pids.max") };
  const cpu = parseKeyValues(cfs.readOptional(dir, "cpu.stat"));
  const c = (k: string) => cpu.get(k) ?? 0n;
  out.cpu = {
    usageUsec: c("usage_usec"),
    userUsec: c("user_usec"),
    systemUsec: c("system_usec"),
    nrPeriods: c("nr_periods"),
    nrThrottled: c("nr_throttled"),
    throttledUsec: c("throttled_usec"),
  };
  const memStat = cfs.readOptional(dir, "memory.stat");
  if (memStat !== undefined) {
    const raw = parseKeyValues(memStat);
    out.memory = memoryStats(raw, u64);
    out.memoryRaw = Object.fromEntries(raw);
  }
  const events = cfs.readOptional(dir, "memory.events");
  if (events !== undefined) {
    const e = parseKeyValues(events);
    out.memoryEvents = {
      low: e.get("low") ?? 0n,
      high: e.get("high") ?? 0n,
      max: e.get("max") ?? 0n,
      oom: e.get("oom") ?? 0n,
      oomKill: e.get("oom_kill") ?? 0n,
    };
  }
  out.io = { usage: parseIOStat(cfs.readOptional(dir, "io.stat")) };
  return out;
}

function memoryStats(raw: Map<string, bigint>, u64: (file: string) => bigint): V2MemoryStat {
  const g = (k: string) => raw.get(k) ?? 0n;
  return {
    anon: g("anon"),
    file: g("file"),
    kernelStack: g("kernel_stack"),
    slab: g("slab"),
    sock: g("sock"),
    shmem: g("shmem"),
    fileMapped: g("file_mapped"),
    fileDirty: g("file_dirty"),
    fileWriteback: g("file_writeback"),
    anonThp: g("anon_thp"),
    inactiveAnon: g("inactive_anon"),
    activeAnon: g("active_anon"),
    inactiveFile: g("inactive_file"),
    activeFile: g("active_file"),
    unevictable: g("unevictable"),
    slabReclaimable: g("slab_reclaimable"),
    slabUnreclaimable: g("slab_unreclaimable"),
    pgfault: g("pgfault"),
    pgmajfault: g("pgmajfault"),
    workingsetRefault: g("workingset_refault"),
    workingsetActivate: g("workingset_activate"),
    workingsetNodereclaim: g("workingset_nodereclaim"),
    pgrefill: g("pgrefill"),
    pgscan: g("pgscan"),
    pgsteal: g("pgsteal"),
    pgactivate: g("pgactivate"),
    pgdeactivate: g("pgdeactivate"),
    pglazyfree: g("pglazyfree"),
    pglazyfreed: g("pglazyfreed"),
    thpFaultAlloc: g("thp_fault_alloc"),
    thpCollapseAlloc: g("thp_collapse_alloc"),
    usage: u64("memory.current"),
    usageLimit: u64("memory.max"),
    swapUsage: u64("memory.swap.current"),
    swapLimit: u64("memory.swap.max"),
    maxUsage: u64("memory.peak"),
    swapMaxUsage: u64("memory.swap.peak"),
  };
}

/** io.stat lines: "maj:min rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
export function parseIOStat(content: string | undefined): V2IOEntry[] {
  const out: V2IOEntry[] = [];
  for (const line of (content ?? "").split("\n")) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? "");
    if (!m) continue;
    const kv = new Map(kvs.map((s) => s.split("=") as [string, string]));
    const n = (k: string) => (kv.has(k) ? parseU64(kv.get(k)!) : 0n);
    out.push({
      major: BigInt(m[1]!),
      minor: BigInt(m[2]!),
      rbytes: n("rbytes"),
      wbytes: n("wbytes"),
      rios: n("rios"),
      wios: n("wios"),
    });
  }
  return out;
}

function hugetlbStats(cfs: CgroupFs, dir: string): V2HugeTlbStat[] {
  const sizes = cfs
    .files(dir)
    .map((f) => /^hugetlb\.([^.]+)\.current$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);
  return sizes.map((size) => {
    const read = (file: string) => {
      const v = cfs.readOptional(dir, `hugetlb.${size}.${file}`);
      return v === undefined ? 0n : parseU64(v, U64_MAX);
    };
    return { pagesize: size, current: read("current"), max: read("max") };
  });
}
