// cgroup v1 statistics, shaped like io.containerd.cgroups.v1.Metrics (see types.ts).
import fs from "node:fs";
import path from "node:path";
import { CgroupFs, parseKeyValues, parseU64 } from "./fsutil.js";
import type {
  CgroupV1Stats,
  V1BlkIOEntry,
  V1BlkIOStat,
  V1CPUStat,
  V1HugetlbStat,
  V1MemoryEntry,
  V1MemoryStat,
  V1PidsStat,
} from "./types.js";

/** USER_HZ: cpuacct.stat counts in these ticks on every Linux arch. */
const CLOCK_TICKS = 100n;
const NS_PER_SEC = 1_000_000_000n;

export function readV1Stats(
  cfs: CgroupFs,
  dirs: Record<string, string>,
  procRoot: string,
): CgroupV1Stats {
  const out: CgroupV1Stats = { version: 1, hugetlb: [] };
  if (dirs.pids) out.pids = pidsStats(cfs, dirs.pids);
  if (dirs.cpu || dirs.cpuacct) out.cpu = cpuStats(cfs, dirs.cpu, dirs.cpuacct);
  if (dirs.memory) {
    const raw = parseKeyValues(cfs.readOptional(dirs.memory, "memory.stat"));
    out.memory = memoryStats(cfs, dirs.memory, raw);
    out.memoryRaw = Object.fromEntries(raw);
    const oom = parseKeyValues(cfs.readOptional(dirs.memory, "memory.oom_control"));
    out.memoryOomControl = {
      oomKillDisable: oom.get("oom_kill_disable") ?? 0n,
      underOom: oom.get("under_oom") ?? 0n,
      oomKill: oom.get("oom_kill") ?? 0n,
    };
  }
  if (dirs.blkio) out.blkio = blkioStats(cfs, dirs.blkio, procRoot);
  if (dirs.hugetlb) out.hugetlb = hugetlbStats(cfs, dirs.hugetlb);
  return out;
}

const u64 = (cfs: CgroupFs, dir: string, file: string, maxValue?: bigint): bigint => {
  const v = cfs.readOptional(dir, file);
  return v === undefined || v === "" ? 0n : parseU64(v, maxValue);
};

function pidsStats(cfs: CgroupFs, dir: string): V1PidsStat {
  // containerd reports an unlimited ("max") v1 pids limit as 0
  return { current: u64(cfs, dir, "pids.current"), limit: u64(cfs, dir, "pids.max", 0n) };
}

function cpuStats(
  cfs: CgroupFs,
  cpuDir: string | undefined,
  acctDir: string | undefined,
): V1CPUStat {
  const stat: V1CPUStat = {
    usage: { total: 0n, kernel: 0n, user: 0n, perCpu: [] },
    throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
  };
  if (acctDir) {
    stat.usage.total = u64(cfs, acctDir, "cpuacct.usage");
    stat.usage.perCpu = (cfs.readOptional(acctDir, "cpuacct.usage_percpu") ?? "")
      .split(/\s+/)
      .filter((s) => s !== "")
      .map((s) => parseU64(s));
    const ticks = parseKeyValues(cfs.readOptional(acctDir, "cpuacct.stat"));
    stat.usage.user = ((ticks.get("user") ?? 0n) * NS_PER_SEC) / CLOCK_TICKS;
    stat.usage.kernel = ((ticks.get("system") ?? 0n) * NS_PER_SEC) / CLOCK_TICKS;
  }
  if (cpuDir) {
    const t = parseKeyValues(cfs.readOptional(cpuDir, "cpu.stat"));
    stat.throttling = {
      periods: t.get("nr_periods") ?? 0n,
      throttledPeriods: t.get("nr_throttled") ?? 0n,
      throttledTime: t.get("throttled_time") ?? 0n,
    };
  }
  return stat;
}

function memoryEntry(cfs: CgroupFs, dir: string, prefix: string): V1MemoryEntry {
  return {
    limit: u64(cfs, dir, `${prefix}.limit_in_bytes`),
    usage: u64(cfs, dir, `${prefix}.usage_in_bytes`),
    max: u64(cfs, dir, `${prefix}.max_usage_in_bytes`),
    failcnt: u64(cfs, dir, `${prefix}.failcnt`),
  };
}

function memoryStats(cfs: CgroupFs, dir: string, raw: Map<string, bigint>): V1MemoryStat {
  const g = (k: string) => raw.get(k) ?? 0n;
  return {
    cache: g("cache"),
    rss: g("rss"),
    rssHuge: g("rss_huge"),
    mappedFile: g("mapped_file"),
    dirty: g("dirty"),
    writeback: g("writeback"),
    pgPgIn: g("pgpgin"),
    pgPgOut: g("pgpgout"),
    pgFault: g("pgfault"),
    pgMajFault: g("pgmajfault"),
    inactiveAnon: g("inactive_anon"),
    activeAnon: g("active_anon"),
    inactiveFile: g("inactive_file"),
    activeFile: g("active_file"),
    unevictable: g("unevictable"),
    hierarchicalMemoryLimit: g("hierarchical_memory_limit"),
    hierarchicalSwapLimit: g("hierarchical_memsw_limit"),
    totalCache: g("total_cache"),
    totalRss: g("total_rss"),
    totalRssHuge: g("total_rss_huge"),
    totalMappedFile: g("total_mapped_file"),
    totalDirty: g("total_dirty"),
    totalWriteback: g("total_writeback"),
    totalPgPgIn: g("total_pgpgin"),
    totalPgPgOut: g("total_pgpgout"),
    totalPgFault: g("total_pgfault"),
    totalPgMajFault: g("total_pgmajfault"),
    totalInactiveAnon: g("total_inactive_anon"),
    totalActiveAnon: g("total_active_anon"),
    totalInactiveFile: g("total_inactive_file"),
    totalActiveFile: g("total_active_file"),
    totalUnevictable: g("total_unevictable"),
    usage: memoryEntry(cfs, dir, "memory"),
    swap: memoryEntry(cfs, dir, "memory.memsw"),
    kernel: memoryEntry(cfs, dir, "memory.kmem"),
    kernelTcp: memoryEntry(cfs, dir, "memory.kmem.tcp"),
  };
}

/** major:minor → "/dev/<name>" from /proc/partitions, as containerd labels blkio entries. */
export function blockDeviceNames(procRoot: string): Map<string, string> {
  const out = new Map<string, string>();
  let content = "";
  try {
    content = fs.readFileSync(path.join(procRoot, "partitions"), "utf8");
  } catch {
    return out;
  }
  for (const line of content.split("\n").slice(2)) {
    const [major, minor, , name] = line.trim().split(/\s+/);
    if (name) out.set(`${major}:${minor}`, path.join("/dev", name));
  }
  return out;
}

/** Lines "maj:min Op value" (or "maj:min value"); the "Total" line is skipped. */
export function parseBlkioFile(
  content: string | undefined,
  names: Map<string, string>,
): V1BlkIOEntry[] {
  const out: V1BlkIOEntry[] = [];
  for (const line of (content ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0] === "Total") continue;
    const m = /^(\d+):(\d+)$/.exec(f[0]!);
    if (!m) continue;
    const [op, value] = f.length >= 3 ? [f[1]!, f[2]!] : ["", f[1]!];
    out.push({
      op,
      device: names.get(`${m[1]}:${m[2]}`) ?? "",
      major: BigInt(m[1]!),
      minor: BigInt(m[2]!),
      value: parseU64(value),
    });
  }
  return out;
}

function blkioStats(cfs: CgroupFs, dir: string, procRoot: string): V1BlkIOStat {
  const names = blockDeviceNames(procRoot);
  const read = (file: string) => parseBlkioFile(cfs.readOptional(dir, `blkio.${file}`), names);
  const stat: V1BlkIOStat = {
    ioServiceBytesRecursive: read("io_service_bytes_recursive"),
    ioServicedRecursive: read("io_serviced_recursive"),
    ioQueuedRecursive: read("io_queued_recursive"),
    ioServiceTimeRecursive: read("io_service_time_recursive"),
    ioWaitTimeRecursive: read("io_wait_time_recursive"),
    ioMergedRecursive: read("io_merged_recursive"),
    ioTimeRecursive: read("time_recursive"),
    sectorsRecursive: read("sectors_recursive"),
  };
  const cfqEntries = Object.values(stat).reduce((n, list: V1BlkIOEntry[]) => n + list.length, 0);
  if (cfqEntries === 0) {
    // without CFQ/BFQ accounting only the throttle files carry numbers (containerd falls back too)
    stat.ioServicedRecursive = read("throttle.io_serviced");
    stat.ioServiceBytesRecursive = read("throttle.io_service_bytes");
  }
  return stat;
}

function hugetlbStats(cfs: CgroupFs, dir: string): V1HugetlbStat[] {
  const sizes = cfs
    .files(dir)
    .map((f) => /^hugetlb\.([^.]+)\.usage_in_bytes$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);
  return sizes.map((size) => ({
    pagesize: size,
    usage: u64(cfs, dir, `hugetlb.${size}.usage_in_bytes`),
    max: u64(cfs, dir, `hugetlb.${size}.max_usage_in_bytes`),
    failcnt: u64(cfs, dir, `hugetlb.${size}.failcnt`),
  }));
}
