import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/**
 * The slice of the cgroups module (packages/runc/src/cgroups, another engineer's) that the
 * lifecycle uses. `loadCgroupManager` takes the real one when it is built and falls back to
 * the small cgroupfs manager below otherwise, so the lifecycle never waits on it.
 */
export interface Cgroups {
  readonly version: 1 | 2;
  create(): void;
  addProcess(pid: number): void;
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  pids(): number[];
  stats(): unknown;
  update(resources: Record<string, unknown>): void;
  destroy(): void;
  paths(): Record<string, string>;
}

export interface CgroupOptions {
  cgroupsPath: string;
  containerId: string;
  resources?: Record<string, unknown>;
  /** linux.devices paths: they replace runc's default device rule for the same node */
  specDevicePaths?: string[];
}

type Factory = (o: CgroupOptions) => Cgroups;
let factory: Factory | undefined;

export async function loadCgroupManager(o: CgroupOptions): Promise<Cgroups> {
  if (!factory) {
    try {
      // a literal specifier: the bundles (scripts/bundle.mjs) carry the module along
      const mod = (await import("../cgroups/index.js")) as unknown as {
        createCgroupManager?: Factory;
      };
      factory = mod.createCgroupManager ?? fallbackManager;
    } catch {
      factory = fallbackManager;
    }
  }
  return factory(o);
}

const ROOT = "/sys/fs/cgroup";

/** controller → mount point, from /proc/self/mountinfo (v1), or { "": root } on v2 */
function hierarchies(): Record<string, string> {
  if (existsSync(join(ROOT, "cgroup.controllers"))) return { "": ROOT };
  const out: Record<string, string> = {};
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(" ");
    if (fstype !== "cgroup") continue;
    const mountPoint = line.slice(0, sep).split(" ")[4]!;
    for (const opt of (superOpts ?? "").split(",")) {
      if (["rw", "ro", "relatime"].includes(opt) || opt.startsWith("clone_children")) continue;
      out[opt] = mountPoint;
    }
  }
  return out;
}

function write(dir: string, file: string, value: string | number): void {
  writeFileSync(join(dir, file), String(value));
}

/** A minimal cgroupfs manager (memory, pids, cpu, freezer) for when the real module is absent. */
export function fallbackManager(o: CgroupOptions): Cgroups {
  const hier = hierarchies();
  const v2 = "" in hier && Object.keys(hier).length === 1;
  const rel = o.cgroupsPath.startsWith("/") ? o.cgroupsPath : `/${o.cgroupsPath}`;
  const dirs: Record<string, string> = {};
  for (const [ctrl, mnt] of Object.entries(hier)) dirs[ctrl] = join(mnt, rel);
  const unique = () => [...new Set(Object.values(dirs))];
  const dirOf = (ctrl: string) => (v2 ? dirs[""]! : dirs[ctrl]);
  const apply = (r: Record<string, unknown> | undefined) => {
    if (!r) return;
    const mem = r.memory as { limit?: number } | undefined;
    const pids = r.pids as { limit?: number } | undefined;
    const cpu = r.cpu as { shares?: number; quota?: number; period?: number } | undefined;
    if (mem?.limit !== undefined && mem.limit > 0) {
      const d = dirOf("memory");
      if (d) write(d, v2 ? "memory.max" : "memory.limit_in_bytes", mem.limit);
    }
    if (pids?.limit !== undefined && pids.limit !== 0) {
      const d = dirOf("pids");
      if (d) write(d, "pids.max", pids.limit > 0 ? pids.limit : "max");
    }
    const cd = dirOf("cpu");
    if (cpu && cd && !v2) {
      if (cpu.shares) write(cd, "cpu.shares", cpu.shares);
      if (cpu.period) write(cd, "cpu.cfs_period_us", cpu.period);
      if (cpu.quota) write(cd, "cpu.cfs_quota_us", cpu.quota);
    }
  };
  const procs = (d: string): number[] => {
    try {
      return readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  return {
    version: v2 ? 2 : 1,
    create() {
      for (const d of unique()) mkdirSync(d, { recursive: true });
      apply(o.resources);
    },
    addProcess(pid) {
      for (const d of unique()) write(d, "cgroup.procs", pid);
    },
    freeze() {
      if (v2) write(dirs[""]!, "cgroup.freeze", 1);
      else if (dirs.freezer) write(dirs.freezer, "freezer.state", "FROZEN");
    },
    thaw() {
      if (v2) write(dirs[""]!, "cgroup.freeze", 0);
      else if (dirs.freezer) write(dirs.freezer, "freezer.state", "THAWED");
    },
    isFrozen() {
      try {
        if (v2) return readFileSync(join(dirs[""]!, "cgroup.freeze"), "utf8").trim() === "1";
        return dirs.freezer
          ? readFileSync(join(dirs.freezer, "freezer.state"), "utf8").trim() !== "THAWED"
          : false;
      } catch {
        return false;
      }
    },
    pids() {
      const d = dirOf("pids") ?? dirOf("memory") ?? unique()[0];
      return d ? procs(d).sort((a, b) => a - b) : [];
    },
    stats() {
      return {};
    },
    update(r) {
      apply(r);
    },
    destroy() {
      for (const d of unique()) {
        if (!existsSync(d)) continue;
        for (const e of readdirSync(d, { withFileTypes: true }))
          if (e.isDirectory()) rmdirSync(join(d, e.name));
        for (let i = 0; ; i++) {
          try {
            rmdirSync(d);
            break;
          } catch (e) {
            if (i > 50 || (e as NodeJS.ErrnoException).code !== "EBUSY") throw e;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
          }
        }
      }
    },
    paths() {
      return { ...dirs };
    },
  };
}
