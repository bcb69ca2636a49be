// OCI linux.resources (the subset runc's cgroupfs driver applies), the stats shapes, and the
// manager interface the runc-ts CLI and init program against.

export interface LinuxDeviceCgroup {
  allow: boolean;
  /** "a" (all), "c" or "b"; missing means "a". */
  type?: string;
  /** Missing or null means any (-1). */
  major?: number | null;
  minor?: number | null;
  /** Some of "rwm"; runc rejects an empty access. */
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  /** memory+swap limit (cgroup v1 semantics; converted for v2 the way runc does). */
  swap?: number;
  /** Ignored, as runc 1.1 does (kernel memory accounting limits are gone). */
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxPids {
  /** 0 leaves the limit alone, a negative value means unlimited ("max"). */
  limit: number;
}

export interface LinuxWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** e.g. "2MB", "1GB" — as in the hugetlb.<size>.* file names. */
  pageSize: string;
  limit: number;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  /** cgroup v2 only: file name → value, written verbatim after everything else. */
  unified?: Record<string, string>;
}

// ---- stats ---------------------------------------------------------------------------------
// Field names and types follow the protobuf-es shapes of io.containerd.cgroups.v1.Metrics and
// io.containerd.cgroups.v2.Metrics (uint64 → bigint), so the shim can pass them to create().

export interface V1HugetlbStat {
  usage: bigint;
  max: bigint;
  failcnt: bigint;
  pagesize: string;
}

export interface V1PidsStat {
  current: bigint;
  limit: bigint;
}

export interface V1CPUStat {
  usage: { total: bigint; kernel: bigint; user: bigint; perCpu: bigint[] };
  throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
}

export interface V1MemoryEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

export interface V1MemoryStat {
  cache: bigint;
  rss: bigint;
  rssHuge: bigint;
  mappedFile: bigint;
  dirty: bigint;
  writeback: bigint;
  pgPgIn: bigint;
  pgPgOut: bigint;
  pgFault: bigint;
  pgMajFault: bigint;
  inactiveAnon: bigint;
  activeAnon: bigint;
  inactiveFile: bigint;
  activeFile: bigint;
  unevictable: bigint;
  hierarchicalMemoryLimit: bigint;
  hierarchicalSwapLimit: bigint;
  totalCache: bigint;
  totalRss: bigint;
  totalRssHuge: bigint;
  totalMappedFile: bigint;
  totalDirty: bigint;
  totalWriteback: bigint;
  totalPgPgIn: bigint;
  totalPgPgOut: bigint;
  totalPgFault: bigint;
  totalPgMajFault: bigint;
  totalInactiveAnon: bigint;
  totalActiveAnon: bigint;
  totalInactiveFile: bigint;
  totalActiveFile: bigint;
  totalUnevictable: bigint;
  usage: V1MemoryEntry;
  swap: V1MemoryEntry;
  kernel: V1MemoryEntry;
  kernelTcp: V1MemoryEntry;
}

export interface V1BlkIOEntry {
  op: string;
  device: string;
  major: bigint;
  minor: bigint;
  value: bigint;
}

export interface V1BlkIOStat {
  ioServiceBytesRecursive: V1BlkIOEntry[];
  ioServicedRecursive: V1BlkIOEntry[];
  ioQueuedRecursive: V1BlkIOEntry[];
  ioServiceTimeRecursive: V1BlkIOEntry[];
  ioWaitTimeRecursive: V1BlkIOEntry[];
  ioMergedRecursive: V1BlkIOEntry[];
  ioTimeRecursive: V1BlkIOEntry[];
  sectorsRecursive: V1BlkIOEntry[];
}

export interface V1MemoryOomControl {
  oomKillDisable: bigint;
  underOom: bigint;
  oomKill: bigint;
}

export interface CgroupV1Stats {
  version: 1;
  hugetlb: V1HugetlbStat[];
  pids?: V1PidsStat;
  cpu?: V1CPUStat;
  memory?: V1MemoryStat;
  blkio?: V1BlkIOStat;
  memoryOomControl?: V1MemoryOomControl;
  /** Not in the proto: memory.stat verbatim, for runc's `events --stats` "raw" map. */
  memoryRaw?: Record<string, bigint>;
}

export interface V2PidsStat {
  current: bigint;
  limit: bigint;
}

export interface V2CPUStat {
  usageUsec: bigint;
  userUsec: bigint;
  systemUsec: bigint;
  nrPeriods: bigint;
  nrThrottled: bigint;
  throttledUsec: bigint;
}

export interface V2MemoryStat {
  anon: bigint;
  file: bigint;
  kernelStack: bigint;
  slab: bigint;
  sock: bigint;
  shmem: bigint;
  fileMapped: bigint;
  fileDirty: bigint;
  fileWriteback: bigint;
  anonThp: bigint;
  inactiveAnon: bigint;
  activeAnon: bigint;
  inactiveFile: bigint;
  activeFile: bigint;
  unevictable: bigint;
  slabReclaimable: bigint;
  slabUnreclaimable: bigint;
  pgfault: bigint;
  pgmajfault: bigint;
  workingsetRefault: bigint;
  workingsetActivate: bigint;
  workingsetNodereclaim: bigint;
  pgrefill: bigint;
  pgscan: bigint;
  pgsteal: bigint;
  pgactivate: bigint;
  pgdeactivate: bigint;
  pglazyfree: bigint;
  pglazyfreed: bigint;
  thpFaultAlloc: bigint;
  thpCollapseAlloc: bigint;
  usage: bigint;
  usageLimit: bigint;
  swapUsage: bigint;
  swapLimit: bigint;
  maxUsage: bigint;
  swapMaxUsage: bigint;
}

export interface V2IOEntry {
  major: bigint;
  minor: bigint;
  rbytes: bigint;
  wbytes: bigint;
  rios: bigint;
  wios: bigint;
}

export interface V2HugeTlbStat {
  current: bigint;
  max: bigint;
  pagesize: string;
}

export interface V2MemoryEvents {
  low: bigint;
  high: bigint;
  max: bigint;
  oom: bigint;
  oomKill: bigint;
}

export interface CgroupV2Stats {
  version: 2;
  pids?: V2PidsStat;
  cpu?: V2CPUStat;
  memory?: V2MemoryStat;
  io?: { usage: V2IOEntry[] };
  hugetlb: V2HugeTlbStat[];
  memoryEvents?: V2MemoryEvents;
  /** Not in the proto: memory.stat verbatim. */
  memoryRaw?: Record<string, bigint>;
}

export type CgroupStats = CgroupV1Stats | CgroupV2Stats;

// ---- manager -------------------------------------------------------------------------------

export type CgroupMode = "v1" | "hybrid" | "v2";

export type CgroupTrace = (op: "mkdir" | "write" | "rmdir", path: string, value?: string) => void;

export interface CgroupManagerOptions {
  /** linux.cgroupsPath: "/a/b" below each hierarchy root, "a/b" below our own cgroup. */
  cgroupsPath: string;
  containerId: string;
  resources?: LinuxResources;
  /** Where the hierarchies are mounted; tests point this at a fake tree. */
  root?: string;
  /** "auto" (default) detects; "v1" also covers hybrid hosts (controllers live in v1). */
  mode?: "v1" | "v2" | "auto";
  /** Used for our own cgroup (<procRoot>/self/cgroup) and block device names (partitions). */
  procRoot?: string;
  /** How long freeze() waits for the kernel to report the cgroup frozen. */
  freezeTimeoutMs?: number;
  /**
   * Append runc's default device rules (see withRuncDefaultDevices) whenever device rules are
   * applied: always on create, on update when the update carries devices. Default true.
   */
  defaultDevices?: boolean;
  /** Paths of the spec's linux.devices, which replace runc's default rule for the same node. */
  specDevicePaths?: string[];
  /** Sees every mkdir/write/rmdir, e.g. for --debug logging. */
  trace?: CgroupTrace;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Creates the cgroup in every hierarchy (parents too) and applies the resources. */
  create(): void;
  /** Moves a process (all its threads) into the cgroup in every hierarchy. */
  addProcess(pid: number): void;
  /** Freezes and waits until the kernel reports the cgroup frozen. */
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Every pid in the cgroup and its descendants, ascending. */
  pids(): number[];
  stats(): CgroupStats;
  /** Applies the given resources (only the fields present; devices get runc's defaults added). */
  update(resources: LinuxResources): void;
  /** Removes the cgroup (and sub-cgroups) everywhere; missing directories are fine. */
  destroy(): void;
  /** Subsystem name → directory (v1, "" for the hybrid unified dir); v2: { "": dir }. */
  paths(): Record<string, string>;
  /** OOM kills so far (memory.oom_control / memory.events "oom_kill"); poll to detect new ones. */
  oomKillCount(): number;
  /** Whether the cgroup directory exists (the memory/unified one). */
  exists(): boolean;
}
