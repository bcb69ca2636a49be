import { isAbsolute, resolve } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { CAPABILITIES, RLIMITS } from "@containerd-ts/sys/constants.js";
import type { Device, Hooks, Linux, LinuxResources, LinuxSeccomp, Mount, Spec } from "./types.js";

/** Namespace kinds runc-ts handles, in the order runc joins them. */
export const NAMESPACE_TYPES = ["pid", "network", "mount", "ipc", "uts", "cgroup"] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface NamespaceConfig {
  type: NamespaceType;
  /** join this namespace instead of creating one */
  path?: string;
}

export interface UserConfig {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids: number[];
}

export interface CapabilityConfig {
  bounding: string[];
  effective: string[];
  inheritable: string[];
  permitted: string[];
  ambient: string[];
}

export interface RlimitConfig {
  type: string;
  resource: number;
  soft: bigint;
  hard: bigint;
}

/** The validated process: everything init and exec need to start it. */
export interface ProcessConfig {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  args: string[];
  env: string[];
  cwd: string;
  user: UserConfig;
  capabilities?: CapabilityConfig;
  noNewPrivileges: boolean;
  rlimits: RlimitConfig[];
  oomScoreAdj?: number;
}

/**
 * The internal container configuration: a config.json that passed validation, with paths
 * made absolute and names resolved to numbers. Nothing on disk is touched before this exists.
 */
export interface ContainerConfig {
  ociVersion: string;
  id: string;
  bundle: string;
  rootfs: string;
  readonlyRoot: boolean;
  hostname?: string;
  domainname?: string;
  process: ProcessConfig;
  mounts: Mount[];
  namespaces: NamespaceConfig[];
  rootfsPropagation?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl: Record<string, string>;
  devices: Device[];
  cgroupsPath: string;
  resources?: LinuxResources;
  seccomp?: LinuxSeccomp;
  hooks: Hooks;
  annotations: Record<string, string>;
}

const PROPAGATIONS = new Set([
  "",
  "private",
  "rprivate",
  "slave",
  "rslave",
  "shared",
  "rshared",
  "unbindable",
  "runbindable",
]);

function fail(field: string, problem: string): never {
  throw errInvalidArgument(`config.json: ${field}: ${problem}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    fail(field, "must be an array of strings");
  return v as string[];
}

function uint(v: unknown, field: string, max = 0xffffffff): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
    fail(field, "must be a non-negative integer");
  return v;
}

function capabilityList(v: unknown, field: string): string[] {
  const list = stringArray(v, field);
  list.forEach((c, i) => {
    if (!(c in CAPABILITIES)) fail(`${field}[${i}]`, `unknown capability ${JSON.stringify(c)}`);
  });
  return list;
}

export function validateProcess(p: unknown, field = "process"): ProcessConfig {
  if (!isObject(p)) fail(field, "is required");
  const args = stringArray(p.args, `${field}.args`);
  if (args.length === 0) fail(`${field}.args`, "must not be empty");
  const cwd = p.cwd;
  if (typeof cwd !== "string" || !isAbsolute(cwd)) fail(`${field}.cwd`, "must be an absolute path");
  if (!isObject(p.user)) fail(`${field}.user`, "is required");
  const user: UserConfig = {
    uid: uint(p.user.uid, `${field}.user.uid`),
    gid: uint(p.user.gid, `${field}.user.gid`),
    additionalGids: (Array.isArray(p.user.additionalGids) ? p.user.additionalGids : []).map(
      (g, i) => uint(g, `${field}.user.additionalGids[${i}]`),
    ),
  };
  if (p.user.umask !== undefined && p.user.umask !== null)
    user.umask = uint(p.user.umask, `${field}.user.umask`, 0o777);
  let capabilities: CapabilityConfig | undefined;
  if (p.capabilities !== undefined && p.capabilities !== null) {
    if (!isObject(p.capabilities)) fail(`${field}.capabilities`, "must be an object");
    const c = p.capabilities;
    capabilities = {
      bounding: capabilityList(c.bounding, `${field}.capabilities.bounding`),
      effective: capabilityList(c.effective, `${field}.capabilities.effective`),
      inheritable: capabilityList(c.inheritable, `${field}.capabilities.inheritable`),
      permitted: capabilityList(c.permitted, `${field}.capabilities.permitted`),
      ambient: capabilityList(c.ambient, `${field}.capabilities.ambient`),
    };
  }
  const rlimits: RlimitConfig[] = [];
  const seen = new Set<string>();
  (Array.isArray(p.rlimits) ? p.rlimits : []).forEach((r: unknown, i: number) => {
    const f = `${field}.rlimits[${i}]`;
    if (!isObject(r) || typeof r.type !== "string") fail(`${f}.type`, "is required");
    const resource = RLIMITS[r.type];
    if (resource === undefined) fail(`${f}.type`, `unknown rlimit ${JSON.stringify(r.type)}`);
    if (seen.has(r.type)) fail(`${f}.type`, `duplicate rlimit ${r.type}`);
    seen.add(r.type);
    const num = (v: unknown, name: string): bigint => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
        fail(`${f}.${name}`, "must be a non-negative integer");
      // JSON numbers above 2^53 lose precision; anything that large means unlimited.
      return v >= Number.MAX_SAFE_INTEGER ? 0xffffffffffffffffn : BigInt(v);
    };
    const soft = num(r.soft, "soft");
    const hard = num(r.hard, "hard");
    if (soft > hard) fail(`${f}.soft`, "must not exceed hard");
    rlimits.push({ type: r.type, resource, soft, hard });
  });
  const env = stringArray(p.env, `${field}.env`);
  env.forEach((e, i) => {
    if (!e.includes("=")) fail(`${field}.env[${i}]`, "must be KEY=value");
  });
  const out: ProcessConfig = {
    terminal: p.terminal === true,
    args,
    env,
    cwd,
    user,
    capabilities,
    noNewPrivileges: p.noNewPrivileges === true,
    rlimits,
  };
  if (isObject(p.consoleSize)) {
    out.consoleSize = {
      height: uint(p.consoleSize.height, `${field}.consoleSize.height`, 0xffff),
      width: uint(p.consoleSize.width, `${field}.consoleSize.width`, 0xffff),
    };
  }
  if (p.oomScoreAdj !== undefined && p.oomScoreAdj !== null) {
    const o = p.oomScoreAdj;
    if (typeof o !== "number" || !Number.isInteger(o) || o < -1000 || o > 1000)
      fail(`${field}.oomScoreAdj`, "must be an integer in [-1000, 1000]");
    out.oomScoreAdj = o;
  }
  return out;
}

function validateMounts(v: unknown): Mount[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail("mounts", "must be an array");
  return v.map((m: unknown, i: number) => {
    if (!isObject(m)) fail(`mounts[${i}]`, "must be an object");
    if (typeof m.destination !== "string" || !isAbsolute(m.destination))
      fail(`mounts[${i}].destination`, "must be an absolute path");
    if (m.type !== undefined && typeof m.type !== "string")
      fail(`mounts[${i}].type`, "must be a string");
    if (m.source !== undefined && typeof m.source !== "string")
      fail(`mounts[${i}].source`, "must be a string");
    const options = stringArray(m.options, `mounts[${i}].options`);
    const out: Mount = { destination: m.destination, options };
    if (m.type !== undefined) out.type = m.type as string;
    if (m.source !== undefined) out.source = m.source as string;
    return out;
  });
}

function validateNamespaces(v: unknown): NamespaceConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail("linux.namespaces", "must be an array");
  const seen = new Set<string>();
  return v.map((n: unknown, i: number) => {
    const f = `linux.namespaces[${i}]`;
    if (!isObject(n) || typeof n.type !== "string") fail(`${f}.type`, "is required");
    if (n.type === "user")
      fail(
        `${f}.type`,
        "user namespaces are not supported by runc-ts (Node is multithreaded; unshare(CLONE_NEWUSER) fails)",
      );
    if (!(NAMESPACE_TYPES as readonly string[]).includes(n.type))
      fail(`${f}.type`, `unknown namespace ${JSON.stringify(n.type)}`);
    if (seen.has(n.type)) fail(`${f}.type`, `duplicate namespace ${n.type}`);
    seen.add(n.type);
    const out: NamespaceConfig = { type: n.type as NamespaceType };
    if (n.path !== undefined && n.path !== "") {
      if (typeof n.path !== "string" || !isAbsolute(n.path))
        fail(`${f}.path`, "must be an absolute path");
      out.path = n.path;
    }
    return out;
  });
}

function validateHooks(v: unknown): Hooks {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) fail("hooks", "must be an object");
  const out: Hooks = {};
  for (const name of [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
  ] as const) {
    const list = v[name];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) fail(`hooks.${name}`, "must be an array");
    out[name] = list.map((h: unknown, i: number) => {
      const f = `hooks.${name}[${i}]`;
      if (!isObject(h) || typeof h.path !== "string" || !isAbsolute(h.path))
        fail(`${f}.path`, "must be an absolute path");
      const hook = {
        path: h.path,
        args: stringArray(h.args, `${f}.args`),
        env: stringArray(h.env, `${f}.env`),
      } as {
        path: string;
        args: string[];
        env: string[];
        timeout?: number;
      };
      if (h.timeout !== undefined && h.timeout !== null) {
        if (typeof h.timeout !== "number" || !Number.isInteger(h.timeout) || h.timeout <= 0)
          fail(`${f}.timeout`, "must be a positive integer");
        hook.timeout = h.timeout;
      }
      return hook;
    });
  }
  return out;
}

function validateDevices(v: unknown): Device[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail("linux.devices", "must be an array");
  return v.map((d: unknown, i: number) => {
    const f = `linux.devices[${i}]`;
    if (!isObject(d)) fail(f, "must be an object");
    if (typeof d.path !== "string" || !isAbsolute(d.path) || !d.path.startsWith("/dev/"))
      fail(`${f}.path`, "must be under /dev");
    if (!["c", "b", "u", "p"].includes(d.type as string))
      fail(`${f}.type`, "must be one of c, b, u, p");
    const dev: Device = { path: d.path, type: d.type as string };
    if (d.type !== "p") {
      dev.major = uint(d.major, `${f}.major`);
      dev.minor = uint(d.minor, `${f}.minor`);
    }
    if (d.fileMode !== undefined) dev.fileMode = uint(d.fileMode, `${f}.fileMode`, 0o7777);
    if (d.uid !== undefined) dev.uid = uint(d.uid, `${f}.uid`);
    if (d.gid !== undefined) dev.gid = uint(d.gid, `${f}.gid`);
    return dev;
  });
}

/**
 * Validates a parsed config.json for container `id` in `bundle` and returns the internal
 * config. Throws InvalidArgument naming the offending field; touches nothing.
 */
export function validateSpec(raw: unknown, id: string, bundle: string): ContainerConfig {
  if (!isObject(raw)) fail("(root)", "must be a JSON object");
  const spec = raw as unknown as Spec & Record<string, unknown>;
  if (typeof spec.ociVersion !== "string" || spec.ociVersion === "")
    fail("ociVersion", "is required");
  if (!isObject(spec.root) || typeof spec.root.path !== "string" || spec.root.path === "")
    fail("root.path", "is required");
  const process = validateProcess(spec.process);
  const linuxRaw: unknown = spec.linux ?? {};
  if (!isObject(linuxRaw)) fail("linux", "must be an object");
  const linux = linuxRaw as Linux;
  if (linux.uidMappings?.length || linux.gidMappings?.length)
    fail("linux.uidMappings", "user namespaces are not supported by runc-ts");
  const namespaces = validateNamespaces(linux.namespaces);
  // the init mounts and pivots the root: doing that in the host's mount namespace would be fatal
  if (!namespaces.some((n) => n.type === "mount"))
    fail("linux.namespaces", "a mount namespace is required (runc-ts mounts the rootfs in it)");
  if (spec.hostname && !namespaces.some((n) => n.type === "uts"))
    fail("hostname", "needs a uts namespace");
  if (spec.domainname && !namespaces.some((n) => n.type === "uts"))
    fail("domainname", "needs a uts namespace");
  if (linux.rootfsPropagation !== undefined && !PROPAGATIONS.has(linux.rootfsPropagation))
    fail(
      "linux.rootfsPropagation",
      `unknown propagation ${JSON.stringify(linux.rootfsPropagation)}`,
    );
  if (linux.sysctl !== undefined && !isObject(linux.sysctl))
    fail("linux.sysctl", "must be an object");
  for (const [k, val] of Object.entries(linux.sysctl ?? {})) {
    if (typeof val !== "string") fail(`linux.sysctl.${k}`, "must be a string");
    if (k.includes("..") || k.includes("/")) fail(`linux.sysctl.${k}`, "is not a sysctl name");
  }
  if (linux.cgroupsPath !== undefined && typeof linux.cgroupsPath !== "string")
    fail("linux.cgroupsPath", "must be a string");
  if (linux.seccomp !== undefined && linux.seccomp !== null) {
    if (!isObject(linux.seccomp) || typeof linux.seccomp.defaultAction !== "string")
      fail("linux.seccomp.defaultAction", "is required");
  }
  if (spec.annotations !== undefined && !isObject(spec.annotations))
    fail("annotations", "must be an object");
  const config: ContainerConfig = {
    ociVersion: spec.ociVersion,
    id,
    bundle,
    rootfs: resolve(bundle, spec.root.path),
    readonlyRoot: spec.root.readonly === true,
    process,
    mounts: validateMounts(spec.mounts),
    namespaces,
    maskedPaths: stringArray(linux.maskedPaths, "linux.maskedPaths"),
    readonlyPaths: stringArray(linux.readonlyPaths, "linux.readonlyPaths"),
    sysctl: { ...(linux.sysctl ?? {}) },
    devices: validateDevices(linux.devices),
    // runc's default for a missing cgroupsPath is /<id> below the hierarchy root
    cgroupsPath: linux.cgroupsPath && linux.cgroupsPath !== "" ? linux.cgroupsPath : `/${id}`,
    hooks: validateHooks(spec.hooks),
    annotations: { ...(spec.annotations ?? {}) },
  };
  if (typeof spec.hostname === "string" && spec.hostname !== "") config.hostname = spec.hostname;
  if (typeof spec.domainname === "string" && spec.domainname !== "")
    config.domainname = spec.domainname;
  if (linux.rootfsPropagation) config.rootfsPropagation = linux.rootfsPropagation;
  if (linux.resources !== undefined && linux.resources !== null) config.resources = linux.resources;
  if (linux.seccomp) config.seccomp = linux.seccomp;
  return config;
}
