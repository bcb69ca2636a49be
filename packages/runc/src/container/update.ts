import { readFileSync } from "node:fs";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";

/** Parses docker-style sizes ("64m", "1g", "1024") as runc's update does; -1 stays -1. */
export function parseSize(v: string, flag: string): number {
  const m = /^(-?\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) throw errInvalidArgument(`invalid value for ${flag}: ${v}`);
  const n = Number(m[1]);
  const mult: Record<string, number> = {
    "": 1,
    k: 1024,
    m: 1024 ** 2,
    g: 1024 ** 3,
    t: 1024 ** 4,
    p: 1024 ** 5,
  };
  return Math.floor(n * mult[m[2]!.toLowerCase()]!);
}

/** `update --resources FILE|-` or the individual flags → OCI LinuxResources JSON. */
export async function updateResources(
  flags: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const file = flags.resources;
  if (typeof file === "string") {
    const text = file === "-" ? await readStdin() : readFileSync(file, "utf8");
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw errInvalidArgument(`resources: ${(e as Error).message}`);
    }
  }
  const r: Record<string, Record<string, unknown>> = {};
  const put = (group: string, key: string, v: unknown) => ((r[group] ??= {})[key] = v);
  const size = (name: string, group: string, key: string) => {
    const v = flags[name];
    if (typeof v === "string") put(group, key, parseSize(v, name));
  };
  size("memory", "memory", "limit");
  size("memory-reservation", "memory", "reservation");
  size("memory-swap", "memory", "swap");
  size("kernel-memory", "memory", "kernel");
  size("kernel-memory-tcp", "memory", "kernelTCP");
  const num = (name: string, group: string, key: string) => {
    const v = flags[name];
    if (typeof v === "number") put(group, key, v);
  };
  num("pids-limit", "pids", "limit");
  num("cpu-shares", "cpu", "shares");
  num("cpu-quota", "cpu", "quota");
  num("cpu-period", "cpu", "period");
  num("cpu-rt-period", "cpu", "realtimePeriod");
  num("cpu-rt-runtime", "cpu", "realtimeRuntime");
  num("blkio-weight", "blockIO", "weight");
  if (typeof flags["cpuset-cpus"] === "string") put("cpu", "cpus", flags["cpuset-cpus"]);
  if (typeof flags["cpuset-mems"] === "string") put("cpu", "mems", flags["cpuset-mems"]);
  return r;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
