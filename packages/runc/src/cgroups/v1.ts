// cgroup v1 (and hybrid) manager: one directory per mounted controller.
import path from "node:path";
import { errInvalidArgument, errNotImplemented } from "@containerd-ts/errdefs";
import { normalizeDeviceRule, v1DeviceString } from "./devices.js";
import { freezeAndWait } from "./freeze.js";
import { CgroupFs, errnoOfCgroupError, parseKeyValues, parseU64 } from "./fsutil.js";
import {
  blockIOThrottles,
  buildOrUndo,
  collectPids,
  removeWithRetries,
  writeProcs,
  type ThrottleKind,
} from "./common.js";
import { readV1Stats } from "./v1-stats.js";
import type {
  CgroupManager,
  CgroupStats,
  LinuxBlockIO,
  LinuxCPU,
  LinuxMemory,
  LinuxResources,
} from "./types.js";

export interface V1ManagerOptions {
  procRoot: string;
  freezeTimeoutMs: number;
  fs: CgroupFs;
  /** Completes update() input the way create's resources were completed (default devices). */
  forUpdate: (r: LinuxResources) => LinuxResources;
}

/** Hierarchies we join but never configure; failures there are ignored like runc does. */
const JOIN_ONLY = new Set(["name=systemd", ""]);

export class V1Manager implements CgroupManager {
  readonly version = 1 as const;
  private readonly fs: CgroupFs;

  constructor(
    private readonly dirs: Record<string, string>,
    private readonly resources: LinuxResources | undefined,
    private readonly opts: V1ManagerOptions,
  ) {
    this.fs = opts.fs;
  }

  paths(): Record<string, string> {
    return { ...this.dirs };
  }

  exists(): boolean {
    const dir = this.dirs.memory ?? this.dirs.devices ?? Object.values(this.dirs)[0];
    return dir !== undefined && this.fs.exists(dir);
  }

  create(): void {
    rejectUnified(this.resources);
    buildOrUndo(
      () => {
        for (const [sub, dir] of Object.entries(this.dirs)) {
          if (sub === "cpuset") this.createCpuset(dir, this.resources?.cpu);
          else if (JOIN_ONLY.has(sub)) this.tryJoinOnly(() => this.fs.mkdirAll(dir));
          else this.fs.mkdirAll(dir);
        }
        if (this.resources) this.apply(this.resources);
      },
      () => this.destroy(),
    );
  }

  update(resources: LinuxResources): void {
    const r = this.opts.forUpdate(resources);
    rejectUnified(r);
    this.apply(r);
  }

  addProcess(pid: number): void {
    const done = new Set<string>();
    for (const [sub, dir] of Object.entries(this.dirs)) {
      if (done.has(dir)) continue; // co-mounted controllers share a directory
      done.add(dir);
      if (JOIN_ONLY.has(sub)) this.tryJoinOnly(() => writeProcs(this.fs, dir, pid));
      else writeProcs(this.fs, dir, pid);
    }
  }

  private tryJoinOnly(fn: () => void): void {
    try {
      fn();
    } catch {
      // named/unified hierarchies are bookkeeping only
    }
  }

  freeze(): void {
    const dir = this.freezerDir();
    freezeAndWait(
      {
        request: () => this.fs.write(dir, "freezer.state", "FROZEN"),
        isFrozen: () => this.fs.read(dir, "freezer.state") === "FROZEN",
        undo: () => this.fs.write(dir, "freezer.state", "THAWED"),
      },
      this.opts.freezeTimeoutMs,
      dir,
    );
  }

  thaw(): void {
    this.fs.write(this.freezerDir(), "freezer.state", "THAWED");
  }

  isFrozen(): boolean {
    const dir = this.dirs.freezer;
    if (!dir) return false;
    return this.fs.readOptional(dir, "freezer.state") === "FROZEN";
  }

  private freezerDir(): string {
    const dir = this.dirs.freezer;
    if (!dir) throw errNotImplemented("cgroups: the freezer controller is not mounted");
    return dir;
  }

  pids(): number[] {
    const dir =
      this.dirs.pids ?? this.dirs.memory ?? this.dirs.devices ?? Object.values(this.dirs)[0];
    return dir ? collectPids(this.fs, dir) : [];
  }

  stats(): CgroupStats {
    return readV1Stats(this.fs, this.dirs, this.opts.procRoot);
  }

  oomKillCount(): number {
    const dir = this.dirs.memory;
    if (!dir) return 0;
    return Number(
      parseKeyValues(this.fs.readOptional(dir, "memory.oom_control")).get("oom_kill") ?? 0n,
    );
  }

  destroy(): void {
    removeWithRetries(this.fs, this.dirs);
  }

  // ---- resources ---------------------------------------------------------------------------

  private apply(r: LinuxResources): void {
    const d = this.dirs;
    if (d.cpuset && r.cpu) this.setCpuset(d.cpuset, r.cpu);
    if (d.devices && r.devices) this.setDevices(d.devices, r);
    if (d.memory && r.memory) this.setMemory(d.memory, r.memory);
    if (d.cpu && r.cpu) this.setCpu(d.cpu, r.cpu);
    if (d.pids && r.pids) this.setPids(d.pids, r.pids.limit);
    if (d.blkio && r.blockIO) this.setBlkio(d.blkio, r.blockIO);
    if (d.hugetlb && r.hugepageLimits) {
      for (const h of r.hugepageLimits)
        this.fs.write(d.hugetlb, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
    }
  }

  /**
   * cpuset refuses tasks while cpus/mems are empty, and a new directory starts empty, so
   * every level down from the first populated ancestor gets its parent's values copied in
   * (runc's cpusetEnsureParent); the leaf takes the configured values first.
   */
  private createCpuset(dir: string, cpu: LinuxCPU | undefined): void {
    const parent = path.dirname(dir);
    if (parent !== dir && !this.cpusetPopulated(parent)) this.createCpuset(parent, undefined);
    this.fs.mkdir(dir);
    if (cpu) this.setCpuset(dir, cpu);
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if ((this.fs.readOptional(dir, file) ?? "") !== "") continue;
      const inherited = this.fs.readOptional(parent, file);
      if (inherited) this.fs.write(dir, file, inherited);
    }
  }

  /** False for a missing level or one with empty cpus; levels without cpuset files (above the mount) end the climb. */
  private cpusetPopulated(dir: string): boolean {
    if (!this.fs.exists(dir)) return false;
    return this.fs.readOptional(dir, "cpuset.cpus") !== "";
  }

  private setCpuset(dir: string, cpu: LinuxCPU): void {
    if (cpu.cpus) this.fs.write(dir, "cpuset.cpus", cpu.cpus);
    if (cpu.mems) this.fs.write(dir, "cpuset.mems", cpu.mems);
  }

  /** Deny everything, then replay the rules in order: the resulting state is exactly the list. */
  private setDevices(dir: string, r: LinuxResources): void {
    const rules = (r.devices ?? []).map(normalizeDeviceRule);
    this.fs.write(dir, "devices.deny", "a");
    for (const rule of rules) {
      this.fs.write(dir, rule.allow ? "devices.allow" : "devices.deny", v1DeviceString(rule));
    }
  }

  private setMemory(dir: string, m: LinuxMemory): void {
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    // Without swap accounting (no memsw files) swap limits cannot be expressed; runc would fail
    // on the missing file, we apply the memory limit alone.
    const hasMemsw = this.fs.exists(dir, "memory.memsw.limit_in_bytes");
    if (limit === -1 && swap === 0 && hasMemsw) swap = -1;
    const writeLimit = () => {
      if (limit !== 0) this.fs.write(dir, "memory.limit_in_bytes", String(limit));
    };
    const writeSwap = () => {
      if (swap !== 0 && hasMemsw) this.fs.write(dir, "memory.memsw.limit_in_bytes", String(swap));
    };
    // The kernel insists limit <= memsw at every step, so raise memsw first when growing.
    const current = hasMemsw
      ? parseU64(this.fs.readOptional(dir, "memory.limit_in_bytes") ?? "0")
      : 0n;
    if (limit !== 0 && swap !== 0 && hasMemsw && (swap === -1 || current < BigInt(swap))) {
      writeSwap();
      writeLimit();
    } else {
      writeLimit();
      writeSwap();
    }
    if (m.reservation) this.fs.write(dir, "memory.soft_limit_in_bytes", String(m.reservation));
    if (m.disableOOMKiller) this.fs.write(dir, "memory.oom_control", "1");
    if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
      if (!Number.isInteger(m.swappiness) || m.swappiness < 0 || m.swappiness > 100) {
        throw errInvalidArgument(
          `cgroups: invalid memory swappiness value: ${m.swappiness} (valid range is 0-100)`,
        );
      }
      this.fs.write(dir, "memory.swappiness", String(m.swappiness));
    }
  }

  private setCpu(dir: string, c: LinuxCPU): void {
    if (c.shares) {
      this.fs.write(dir, "cpu.shares", String(c.shares));
      // the kernel clamps out-of-range shares silently; runc reports it
      const actual = this.fs.readOptional(dir, "cpu.shares");
      if (actual !== undefined && Number(actual) !== c.shares) {
        const bound = Number(actual) < c.shares ? "maximum" : "minimum";
        throw errInvalidArgument(`cgroups: the ${bound} allowed cpu-shares is ${actual}`);
      }
    }
    let pendingPeriod: string | undefined;
    if (c.period) {
      try {
        this.fs.write(dir, "cpu.cfs_period_us", String(c.period));
      } catch (err) {
        // a smaller period can be refused until the quota shrinks too; retry after the quota
        if (errnoOfCgroupError(err) !== "EINVAL" || !c.quota) throw err;
        pendingPeriod = String(c.period);
      }
    }
    if (c.quota) {
      this.fs.write(dir, "cpu.cfs_quota_us", String(c.quota));
      if (pendingPeriod) this.fs.write(dir, "cpu.cfs_period_us", pendingPeriod);
    }
    if (c.realtimePeriod) this.fs.write(dir, "cpu.rt_period_us", String(c.realtimePeriod));
    if (c.realtimeRuntime) this.fs.write(dir, "cpu.rt_runtime_us", String(c.realtimeRuntime));
  }

  private setPids(dir: string, limit: number): void {
    if (limit === 0) return;
    this.fs.write(dir, "pids.max", limit > 0 ? String(limit) : "max");
  }

  private setBlkio(dir: string, b: LinuxBlockIO): void {
    const bfq = this.fs.exists(dir, "blkio.bfq.weight");
    if (b.weight) this.fs.write(dir, bfq ? "blkio.bfq.weight" : "blkio.weight", String(b.weight));
    if (b.leafWeight) this.fs.write(dir, "blkio.leaf_weight", String(b.leafWeight));
    for (const wd of b.weightDevice ?? []) {
      if (wd.weight) {
        this.fs.write(
          dir,
          bfq ? "blkio.bfq.weight_device" : "blkio.weight_device",
          `${wd.major}:${wd.minor} ${wd.weight}`,
        );
      }
      if (wd.leafWeight)
        this.fs.write(dir, "blkio.leaf_weight_device", `${wd.major}:${wd.minor} ${wd.leafWeight}`);
    }
    const files: Record<ThrottleKind, string> = {
      rbps: "blkio.throttle.read_bps_device",
      wbps: "blkio.throttle.write_bps_device",
      riops: "blkio.throttle.read_iops_device",
      wiops: "blkio.throttle.write_iops_device",
    };
    for (const [kind, t] of blockIOThrottles(b)) {
      this.fs.write(dir, files[kind], `${t.major}:${t.minor} ${t.rate}`);
    }
  }
}

function rejectUnified(r: LinuxResources | undefined): void {
  if (r?.unified && Object.keys(r.unified).length > 0) {
    throw errInvalidArgument("cgroups: linux.resources.unified is only supported on cgroup v2");
  }
}
