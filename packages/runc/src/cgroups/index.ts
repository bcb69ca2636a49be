// cgroups for runc-ts (cgroupfs driver): path resolution, v1/hybrid and v2 managers, stats.
import { errInvalidArgument } from "@containerd-ts/errdefs";
import { CgroupFs } from "./fsutil.js";
import {
  DEFAULT_CGROUP_ROOT,
  detectCgroupMode,
  innerCgroupPath,
  readOwnCgroups,
  resolveV1Paths,
  resolveV2Path,
} from "./paths.js";
import { withRuncDefaultDevices } from "./devices.js";
import type { CgroupManager, CgroupManagerOptions, LinuxResources } from "./types.js";
import { V1Manager } from "./v1.js";
import { V2Manager } from "./v2.js";

export * from "./types.js";
export {
  DEFAULT_CGROUP_ROOT,
  V1_SUBSYSTEMS,
  cleanCgroupPath,
  detectCgroupMode,
  innerCgroupPath,
  isSystemdCgroupsPath,
  parseProcCgroup,
  v1Mounts,
} from "./paths.js";
export {
  RUNC_DEFAULT_DEVICE_RULES,
  withRuncDefaultDevices,
  isDefaultDeviceSet,
  normalizeDeviceRule,
  v1DeviceString,
  type DeviceRule,
} from "./devices.js";
export { blkioWeightToIOWeight, cpuSharesToWeight, memorySwapToV2 } from "./v2.js";

const DEFAULT_FREEZE_TIMEOUT_MS = 10_000;

/**
 * A manager for the container's cgroup. Nothing touches the filesystem until a method is
 * called; resolving the paths only reads (mode, mounts, /proc/self/cgroup for relative paths).
 */
export function createCgroupManager(opts: CgroupManagerOptions): CgroupManager {
  if (typeof opts.cgroupsPath !== "string")
    throw errInvalidArgument("cgroups: cgroupsPath must be a string");
  const root = opts.root ?? DEFAULT_CGROUP_ROOT;
  const procRoot = opts.procRoot ?? "/proc";
  const inner = innerCgroupPath(opts.cgroupsPath, opts.containerId);
  const detected = detectCgroupMode(root);
  const mode = opts.mode ?? "auto";
  const version = mode === "v2" || (mode === "auto" && detected === "v2") ? 2 : 1;
  const fs = new CgroupFs(opts.trace);
  const freezeTimeoutMs = opts.freezeTimeoutMs ?? DEFAULT_FREEZE_TIMEOUT_MS;
  const own = () => readOwnCgroups(procRoot);
  const withDevices = (r: LinuxResources | undefined, creating: boolean): LinuxResources => {
    if (opts.defaultDevices === false || (!creating && !r?.devices)) return r ?? {};
    return { ...r, devices: withRuncDefaultDevices(r?.devices, opts.specDevicePaths) };
  };
  const resources = withDevices(opts.resources, true);
  const forUpdate = (r: LinuxResources) => withDevices(r, false);
  if (version === 2) {
    const dir = resolveV2Path(root, inner, own);
    return new V2Manager(dir, resources, { root, freezeTimeoutMs, fs, forUpdate });
  }
  const dirs = resolveV1Paths(root, inner, own, detected === "hybrid");
  return new V1Manager(dirs, resources, { procRoot, freezeTimeoutMs, fs, forUpdate });
}
