import { CAPABILITIES } from "@containerd-ts/sys/constants.js";
import type { CapabilitySets } from "@containerd-ts/sys/syscalls.js";
import type { CapabilityConfig } from "../spec/config.js";

/** A capability name list as a bit mask. Names are validated before this point. */
export function capMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const bit = CAPABILITIES[n];
    if (bit === undefined) throw new TypeError(`unknown capability ${n}`);
    m |= 1n << BigInt(bit);
  }
  return m;
}

/** Capability numbers 0..lastCap that are NOT in the bounding list: these get PR_CAPBSET_DROP. */
export function boundingDrops(bounding: readonly string[], lastCap: number): number[] {
  const keep = capMask(bounding);
  const drops: number[] = [];
  for (let c = 0; c <= lastCap; c++) if (!(keep & (1n << BigInt(c)))) drops.push(c);
  return drops;
}

export function capSets(c: CapabilityConfig): CapabilitySets {
  return {
    effective: capMask(c.effective),
    permitted: capMask(c.permitted),
    inheritable: capMask(c.inheritable),
  };
}

export function ambientCaps(c: CapabilityConfig): number[] {
  return c.ambient.map((n) => CAPABILITIES[n]!);
}
