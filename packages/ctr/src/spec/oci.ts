/**
 * The OCI runtime spec ctr 1.6 builds for `--rootfs DIR` (containerd's oci.GenerateSpec
 * defaults plus ctr's options), with the keys in the order Go marshals them, so that a
 * container created by ctr-ts is indistinguishable from one created by ctr.
 */

export const SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
export const PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface OciProcess {
  terminal?: boolean;
  user: OciUser;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Record<"bounding" | "effective" | "permitted", string[]>;
  rlimits?: { type: string; hard: number; soft: number }[];
  noNewPrivileges?: boolean;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: Record<string, unknown>;
}

export interface SpecOptions {
  /** container id and namespace: cgroupsPath is `/<namespace>/<id>` */
  id: string;
  namespace: string;
  /** absolute path of the root filesystem */
  rootfs: string;
  args: string[];
  /** `K=V` entries; a later entry replaces an earlier one with the same key */
  env?: string[];
  cwd?: string;
  terminal?: boolean;
  /** container labels; ctr copies them into the spec's annotations */
  labels?: Record<string, string>;
  /** extra mounts, appended after the defaults */
  mounts?: OciMount[];
  readonlyRootfs?: boolean;
  /** process user; root unless an image config names another */
  user?: OciUser;
}

const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

const NOSUID_NOEXEC_NODEV = ["nosuid", "noexec", "nodev"];

function defaultMounts(): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: [...NOSUID_NOEXEC_NODEV] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: [...NOSUID_NOEXEC_NODEV, "mode=1777", "size=65536k"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: [...NOSUID_NOEXEC_NODEV],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: [...NOSUID_NOEXEC_NODEV, "ro"],
    },
    {
      destination: "/run",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
  ];
}

/** Character devices every container may use: null, zero, full, tty, random, urandom, ptmx, pts. */
function defaultDeviceRules(): Record<string, unknown>[] {
  const allow = (major: number, minor?: number) =>
    minor === undefined
      ? { allow: true, type: "c", major, access: "rwm" }
      : { allow: true, type: "c", major, minor, access: "rwm" };
  return [
    { allow: false, access: "rwm" },
    allow(1, 3),
    allow(1, 8),
    allow(1, 7),
    allow(5, 0),
    allow(1, 5),
    allow(1, 9),
    allow(5, 1),
    allow(136),
    allow(5, 2),
  ];
}

const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
];

const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** containerd's replaceOrAppendEnvValues: later `K=V` replaces an earlier K in place. */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base];
  for (const kv of extra) {
    const key = kv.split("=", 1)[0];
    const i = out.findIndex((e) => e.split("=", 1)[0] === key);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

export function buildSpec(opts: SpecOptions): OciSpec {
  let env: string[] | undefined =
    opts.env && opts.env.length > 0 ? mergeEnv([], opts.env) : undefined;
  // oci.WithTTY: terminal on, and TERM for programs that care
  if (opts.terminal) env = [...(env ?? []), "TERM=xterm"];
  const process: OciProcess = {
    ...(opts.terminal ? { terminal: true } : {}),
    user: opts.user ? { ...opts.user } : { uid: 0, gid: 0 },
    args: [...opts.args],
    ...(env ? { env } : {}),
    cwd: opts.cwd || "/",
    capabilities: {
      bounding: [...DEFAULT_CAPABILITIES],
      effective: [...DEFAULT_CAPABILITIES],
      permitted: [...DEFAULT_CAPABILITIES],
    },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
  const labels = opts.labels ?? {};
  return {
    ociVersion: "1.0.2-dev",
    process,
    root: { path: opts.rootfs, ...(opts.readonlyRootfs ? { readonly: true } : {}) },
    mounts: [...defaultMounts(), ...(opts.mounts ?? [])],
    ...(Object.keys(labels).length > 0 ? { annotations: { ...labels } } : {}),
    linux: {
      resources: { devices: defaultDeviceRules() },
      cgroupsPath: `/${opts.namespace}/${opts.id}`,
      namespaces: ["pid", "ipc", "uts", "mount", "network"].map((type) => ({ type })),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

/** The spec as stored in Container.spec: compact JSON, like Go's json.Marshal. */
export function encodeSpec(spec: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(spec));
}

/**
 * ctr's `--mount` syntax: `type=bind,src=/a,dst=/b,options=rbind:ro` (also source=,
 * destination=). Values with commas can be quoted like CSV.
 */
export function parseMountFlag(text: string): OciMount {
  const mount: OciMount = { destination: "" };
  for (const field of splitCsv(text)) {
    const eq = field.indexOf("=");
    if (eq < 0) throw new Error("invalid mount specification: expected key=val");
    const key = field.slice(0, eq);
    const val = field.slice(eq + 1);
    switch (key) {
      case "type":
        mount.type = val;
        break;
      case "source":
      case "src":
        mount.source = val;
        break;
      case "destination":
      case "dst":
        mount.destination = val;
        break;
      case "options":
        mount.options = val.split(":");
        break;
      default:
        throw new Error(`mount option "${key}" not supported`);
    }
  }
  return mount;
}

function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === "") quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
