import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  MetricsSchema,
  type Metrics,
} from "@containerd-ts/gen/io/containerd/cgroups/v1/metrics_pb.js";

/** controller → the directory of a process's cgroup in that v1 hierarchy */
export type CgroupPaths = Map<string, string>;

/** Where each v1 controller is mounted, from mountinfo (fstype cgroup, controllers in super options). */
export function v1MountPoints(
  mountinfo = readText("/proc/self/mountinfo") ?? "",
): Map<string, string> {
  const points = new Map<string, string>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
    if (fstype !== "cgroup") continue;
    const mountPoint = line.slice(0, sep).split(" ")[4];
    if (!mountPoint) continue;
    for (const opt of superOpts.split(",")) if (!points.has(opt)) points.set(opt, mountPoint);
  }
  return points;
}

/** The v1 cgroup directories of pid, per controller; empty when the pid is gone or on pure v2. */
export function cgroupV1Paths(pid: number, mounts = v1MountPoints()): CgroupPaths {
  const paths: CgroupPaths = new Map();
  const text = readText(`/proc/${pid}/cgroup`);
  if (!text) return paths;
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m || m[2] === "") continue;
    for (const controller of m[2]!.split(",")) {
      const mp = mounts.get(controller);
      if (mp) paths.set(controller, join(mp, m[3]!));
    }
  }
  return paths;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function readU64(dir: string | undefined, file: string): bigint {
  if (!dir) return 0n;
  const t = readText(join(dir, file))?.trim();
  // "max" (no limit) reads as 0, as containerd/cgroups reports it
  if (!t || t === "max") return 0n;
  try {
    return BigInt(t.split(/\s+/)[0]!);
  } catch {
    return 0n;
  }
}

function readKeyed(dir: string | undefined, file: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const t = dir ? readText(join(dir, file)) : undefined;
  for (const line of t?.split("\n") ?? []) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

/** The OOM kill counter of the memory cgroup (v1 memory.oom_control `oom_kill`). */
export function oomKillCount(paths: CgroupPaths): bigint | undefined {
  const dir = paths.get("memory");
  if (!dir) return undefined;
  return readKeyed(dir, "memory.oom_control").get("oom_kill");
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
