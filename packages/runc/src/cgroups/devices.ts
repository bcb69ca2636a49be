// Device cgroup rules: validation, the v1 "type major:minor access" form, and runc's default
// allow list.
import { errInvalidArgument } from "@containerd-ts/errdefs";
import type { LinuxDeviceCgroup } from "./types.js";

export interface DeviceRule {
  allow: boolean;
  type: "a" | "c" | "b";
  /** -1 is the wildcard. */
  major: number;
  minor: number;
  access: string;
}

export function normalizeDeviceRule(d: LinuxDeviceCgroup, index: number): DeviceRule {
  const type = d.type === undefined || d.type === "" ? "a" : d.type;
  if (type !== "a" && type !== "c" && type !== "b") {
    throw errInvalidArgument(
      `linux.resources.devices[${index}].type: invalid device type ${JSON.stringify(type)}`,
    );
  }
  const access = d.access ?? "";
  if (access === "")
    throw errInvalidArgument(`linux.resources.devices[${index}].access cannot be empty`);
  if (!/^[rwm]+$/.test(access)) {
    throw errInvalidArgument(
      `linux.resources.devices[${index}].access: invalid ${JSON.stringify(access)}`,
    );
  }
  const num = (v: number | null | undefined, field: string) => {
    if (v === undefined || v === null || v === -1) return -1;
    if (!Number.isInteger(v) || v < 0)
      throw errInvalidArgument(`linux.resources.devices[${index}].${field}: invalid ${v}`);
    return v;
  };
  return {
    allow: !!d.allow,
    type,
    major: num(d.major, "major"),
    minor: num(d.minor, "minor"),
    access,
  };
}

export const isWildcardRule = (r: DeviceRule) => r.type === "a";

/** devices.allow / devices.deny syntax; type "a" ignores the numbers, as the kernel does. */
export function v1DeviceString(r: DeviceRule): string {
  if (r.type === "a") return "a";
  const n = (v: number) => (v === -1 ? "*" : String(v));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

interface DefaultDevice {
  /** The device node the rule is for; a spec device with the same path replaces the default. */
  path?: string;
  rule: LinuxDeviceCgroup;
}

const allow = (
  type: "c" | "b",
  major: number | null,
  minor: number | null,
  access: string,
  path?: string,
): DefaultDevice => ({ path, rule: { allow: true, type, major, minor, access } });

/**
 * What runc appends to every container's device rules (its specconv AllowedDevices): mknod
 * of anything, /dev/null, random, full, tty, zero, urandom, pts, ptmx and tun.
 */
const RUNC_DEFAULT_DEVICES: readonly DefaultDevice[] = [
  allow("c", null, null, "m"),
  allow("b", null, null, "m"),
  allow("c", 1, 3, "rwm", "/dev/null"),
  allow("c", 1, 8, "rwm", "/dev/random"),
  allow("c", 1, 7, "rwm", "/dev/full"),
  allow("c", 5, 0, "rwm", "/dev/tty"),
  allow("c", 1, 5, "rwm", "/dev/zero"),
  allow("c", 1, 9, "rwm", "/dev/urandom"),
  allow("c", 136, null, "rwm"),
  allow("c", 5, 2, "rwm"),
  allow("c", 10, 200, "rwm"),
];

export const RUNC_DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = RUNC_DEFAULT_DEVICES.map(
  (d) => d.rule,
);

/**
 * The rule list runc programs: the spec's linux.resources.devices followed by its default
 * allow list, minus defaults for nodes the spec's linux.devices redefines (by path).
 */
export function withRuncDefaultDevices(
  specRules: readonly LinuxDeviceCgroup[] | undefined,
  specDevicePaths: readonly string[] = [],
): LinuxDeviceCgroup[] {
  const defaults = RUNC_DEFAULT_DEVICES.filter((d) => !d.path || !specDevicePaths.includes(d.path));
  return [...(specRules ?? []), ...defaults.map((d) => d.rule)];
}

const sameRule = (a: DeviceRule, b: DeviceRule) =>
  a.allow === b.allow &&
  a.type === b.type &&
  a.major === b.major &&
  a.minor === b.minor &&
  a.access === b.access;

/**
 * Whether a rule list asks for nothing beyond runc's defaults: deny-all plus a subset of the
 * default allow list. On cgroup v2 such a list is accepted without an eBPF device program.
 */
export function isDefaultDeviceSet(rules: DeviceRule[]): boolean {
  const defaults = RUNC_DEFAULT_DEVICE_RULES.map(normalizeDeviceRule);
  return rules.every(
    (r) =>
      (!r.allow && isWildcardRule(r) && ["r", "w", "m"].every((p) => r.access.includes(p))) ||
      defaults.some((d) => sameRule(d, r)),
  );
}
