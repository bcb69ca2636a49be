// cgroup v2 (unified hierarchy) manager: one directory, controllers enabled from the root down.
import path from "node:path";
import { errInvalidArgument, errNotImplemented } from "@containerd-ts/errdefs";
import {
  blockIOThrottles,
  buildOrUndo,
  collectPids,
  removeWithRetries,
  writeProcs,
} from "./common.js";
import { isDefaultDeviceSet, normalizeDeviceRule } from "./devices.js";
import { freezeAndWait } from "./freeze.js";
import { CgroupFs, parseKeyValues } from "./fsutil.js";
import { readV2Stats } from "./v2-stats.js";
import type {
  CgroupManager,
  CgroupStats,
  LinuxBlockIO,
  LinuxCPU,
  LinuxMemory,
  LinuxResources,
} from "./types.js";

export interface V2ManagerOptions {
  root: string;
  freezeTimeoutMs: number;
  fs: CgroupFs;
  /** Completes update() input the way create's resources were completed (default devices). */
  forUpdate: (r: LinuxResources) => LinuxResources;
}

/** runc's mapping of cgroup v1 cpu.shares [2-262144] onto cpu.weight [1-10000]. */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's mapping of blkio.weight [10-1000] onto io.weight [1-10000]. */
export function blkioWeightToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI swap is memory+swap (v1 memsw); v2's memory.swap.max is swap alone. Returns -1 for
 * "max", 0 for "leave alone" (runc's ConvertMemorySwapToCgroupV2Value).
 */
export function memorySwapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === 0 || memory === -1)
    throw errInvalidArgument("cgroups: unable to set swap limit without memory limit");
  if (memory < 0) throw errInvalidArgument(`cgroups: invalid memory value: ${memory}`);
  if (swap < memory)
    throw errInvalidArgument("cgroups: memory+swap limit should be >= memory limit");
  return swap - memory;
}

/** 0 = unset, -1 = unlimited. */
const v2Value = (n: number): string | undefined =>
  n === 0 ? undefined : n === -1 ? "max" : String(n);

/** Controllers that cannot live in a threaded cgroup. */
const DOMAIN_CONTROLLERS = ["memory", "io", "hugetlb", "rdma"];

export class V2Manager implements CgroupManager {
  readonly version = 2 as const;
  private readonly fs: CgroupFs;

  constructor(
    private readonly dir: string,
    private readonly resources: LinuxResources | undefined,
    private readonly opts: V2ManagerOptions,
  ) {
    this.fs = opts.fs;
    const rel = path.relative(opts.root, dir);
    if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
      throw errInvalidArgument(`cgroups: invalid cgroup path ${dir} (must be below ${opts.root})`);
    }
  }

  paths(): Record<string, string> {
    return { "": this.dir };
  }

  exists(): boolean {
    return this.fs.exists(this.dir);
  }

  create(): void {
    if (this.resources) validateV2(this.resources);
    buildOrUndo(
      () => {
        this.createPath();
        if (this.resources) this.apply(this.resources);
      },
      () => this.destroy(),
    );
  }

  /**
   * Creates every level below the root and enables all available controllers in each
   * parent's cgroup.subtree_control, so the leaf gets them (runc's CreateCgroupPath).
   */
  private createPath(): void {
    const available = (this.fs.readOptional(this.opts.root, "cgroup.controllers") ?? "")
      .split(/\s+/)
      .filter(Boolean);
    const enable = available.map((c) => `+${c}`);
    const levels = [this.opts.root];
    for (const part of path.relative(this.opts.root, this.dir).split(path.sep)) {
      levels.push(path.join(levels[levels.length - 1]!, part));
    }
    levels.forEach((level, i) => {
      if (i > 0) {
        this.fs.mkdir(level);
        this.checkType(level);
      }
      if (level === this.dir || enable.length === 0) return;
      try {
        this.fs.write(level, "cgroup.subtree_control", enable.join(" "));
      } catch {
        // one refused controller fails the whole write; enable what we can one by one
        for (const c of enable) {
          try {
            this.fs.write(level, "cgroup.subtree_control", c);
          } catch {
            // missing controllers surface when their resources are written
          }
        }
      }
    });
  }

  private checkType(level: string): void {
    const type = this.fs.readOptional(level, "cgroup.type");
    if (type === undefined || type === "domain") return;
    const wantsDomain = this.domainControllersRequested();
    if (type === "domain invalid") {
      if (wantsDomain) {
        throw errInvalidArgument(
          `cgroups: cannot enter cgroup v2 ${level} with domain controllers: it is in an invalid state`,
        );
      }
      try {
        this.fs.write(level, "cgroup.type", "threaded");
      } catch {
        // best effort, as in runc
      }
    } else if ((type === "threaded" || type === "domain threaded") && wantsDomain) {
      throw errInvalidArgument(
        `cgroups: cannot enter cgroup v2 ${level} with domain controllers: it is in ${type} mode`,
      );
    }
  }

  private domainControllersRequested(): boolean {
    const r = this.resources;
    if (!r) return false;
    const m = r.memory;
    if (m && (m.limit || m.reservation || m.swap)) return true;
    if (r.blockIO && (r.blockIO.weight || r.blockIO.weightDevice?.length)) return true;
    if (r.hugepageLimits?.length) return true;
    return Object.keys(r.unified ?? {}).some((k) => DOMAIN_CONTROLLERS.includes(k.split(".")[0]!));
  }

  update(resources: LinuxResources): void {
    const r = this.opts.forUpdate(resources);
    validateV2(r);
    this.apply(r);
  }

  addProcess(pid: number): void {
    writeProcs(this.fs, this.dir, pid);
  }

  freeze(): void {
    if (!this.fs.exists(this.dir, "cgroup.freeze")) {
      throw errNotImplemented("cgroups: cgroup.freeze is not available (kernel older than 5.2?)");
    }
    freezeAndWait(
      {
        request: () => this.fs.write(this.dir, "cgroup.freeze", "1"),
        isFrozen: () => this.frozenReported(),
        undo: () => this.fs.write(this.dir, "cgroup.freeze", "0"),
      },
      this.opts.freezeTimeoutMs,
      this.dir,
    );
  }

  thaw(): void {
    this.fs.write(this.dir, "cgroup.freeze", "0");
  }

  isFrozen(): boolean {
    return this.fs.readOptional(this.dir, "cgroup.freeze") === "1" && this.frozenReported();
  }

  private frozenReported(): boolean {
    return parseKeyValues(this.fs.readOptional(this.dir, "cgroup.events")).get("frozen") === 1n;
  }

  pids(): number[] {
    return collectPids(this.fs, this.dir);
  }

  stats(): CgroupStats {
    return readV2Stats(this.fs, this.dir);
  }

  oomKillCount(): number {
    return Number(
      parseKeyValues(this.fs.readOptional(this.dir, "memory.events")).get("oom_kill") ?? 0n,
    );
  }

  destroy(): void {
    removeWithRetries(this.fs, { "": this.dir });
  }

  // ---- resources ---------------------------------------------------------------------------

  private apply(r: LinuxResources): void {
    const dir = this.dir;
    if (r.cpu) this.setCpuset(r.cpu);
    if (r.memory) this.setMemory(r.memory);
    if (r.cpu) this.setCpu(r.cpu);
    if (r.pids && r.pids.limit !== 0)
      this.fs.write(dir, "pids.max", r.pids.limit > 0 ? String(r.pids.limit) : "max");
    if (r.blockIO) this.setIO(r.blockIO);
    for (const h of r.hugepageLimits ?? [])
      this.fs.write(dir, `hugetlb.${h.pageSize}.max`, String(h.limit));
    // last, so explicit unified values win over converted ones
    for (const [file, value] of Object.entries(r.unified ?? {})) this.fs.write(dir, file, value);
  }

  private setCpuset(c: LinuxCPU): void {
    if (c.cpus) this.fs.write(this.dir, "cpuset.cpus", c.cpus);
    if (c.mems) this.fs.write(this.dir, "cpuset.mems", c.mems);
  }

  private setMemory(m: LinuxMemory): void {
    // memory.oom_control, swappiness and kernel limits have no v2 counterpart: ignored, as runc does
    const limit = m.limit ?? 0;
    if (!limit && !m.reservation && !m.swap) return;
    const swap = memorySwapToV2(m.swap ?? 0, limit);
    let swapValue = v2Value(swap);
    // memory and memory+swap equal: swap disabled
    if (swapValue === undefined && swap === 0 && (m.swap ?? 0) > 0) swapValue = "0";
    if (swapValue !== undefined) this.fs.write(this.dir, "memory.swap.max", swapValue);
    const max = v2Value(limit);
    if (max !== undefined) this.fs.write(this.dir, "memory.max", max);
    const low = v2Value(m.reservation ?? 0);
    if (low !== undefined) this.fs.write(this.dir, "memory.low", low);
  }

  private setCpu(c: LinuxCPU): void {
    if (c.shares) this.fs.write(this.dir, "cpu.weight", String(cpuSharesToWeight(c.shares)));
    if (c.quota || c.period) {
      const quota = c.quota && c.quota > 0 ? String(c.quota) : "max";
      this.fs.write(this.dir, "cpu.max", `${quota} ${c.period || 100000}`);
    }
    if (c.burst !== undefined && c.burst !== null)
      this.fs.write(this.dir, "cpu.max.burst", String(c.burst));
    if (c.idle) this.fs.write(this.dir, "cpu.idle", String(c.idle));
  }

  private setIO(b: LinuxBlockIO): void {
    const bfq = this.fs.exists(this.dir, "io.bfq.weight");
    if (b.weight) {
      // BFQ takes the v1 scale as is; the generic io.weight needs the conversion
      if (bfq) this.fs.write(this.dir, "io.bfq.weight", String(b.weight));
      else this.fs.write(this.dir, "io.weight", String(blkioWeightToIOWeight(b.weight)));
    }
    for (const wd of b.weightDevice ?? []) {
      if (!wd.weight) continue;
      if (bfq) this.fs.write(this.dir, "io.bfq.weight", `${wd.major}:${wd.minor} ${wd.weight}`);
      else
        this.fs.write(
          this.dir,
          "io.weight",
          `${wd.major}:${wd.minor} ${blkioWeightToIOWeight(wd.weight)}`,
        );
    }
    for (const [kind, t] of blockIOThrottles(b)) {
      this.fs.write(
        this.dir,
        "io.max",
        `${t.major}:${t.minor} ${kind}=${t.rate === 0 ? "max" : t.rate}`,
      );
    }
  }
}

/** Everything v2 cannot do is refused before anything is created. */
function validateV2(r: LinuxResources): void {
  if (r.devices) {
    const rules = r.devices.map(normalizeDeviceRule);
    // Enforcing device rules on v2 needs an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE); runc's
    // default rule set is accepted and left unenforced, anything else is refused.
    if (!isDefaultDeviceSet(rules)) {
      throw errNotImplemented(
        "cgroups: device rules beyond runc's defaults need an eBPF device filter on cgroup v2",
      );
    }
  }
  if (r.cpu?.realtimePeriod || r.cpu?.realtimeRuntime) {
    throw errNotImplemented("cgroups: realtime cpu limits are not supported on cgroup v2");
  }
  for (const key of Object.keys(r.unified ?? {})) {
    if (key.includes("/") || key === "" || key.startsWith(".")) {
      throw errInvalidArgument(
        `cgroups: linux.resources.unified key ${JSON.stringify(key)} is not a file name`,
      );
    }
  }
}
