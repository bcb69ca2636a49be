import { spawnSync } from "node:child_process";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { loadContainer } from "./ops.js";

/** `ps`: json → the cgroup's pids as a JSON array; table → host `ps` lines of those pids. */
export async function psContainer(
  root: string,
  id: string | undefined,
  format: string,
  psArgs: string[],
): Promise<string> {
  const c = await loadContainer(root, id);
  const pids = (await c.cgroups()).pids();
  if (format === "json") return JSON.stringify(pids) + "\n";
  if (format !== "table") throw errInvalidArgument("invalid format option");
  const r = spawnSync("ps", psArgs.length ? psArgs : ["-ef"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ps: ${r.stderr || r.error?.message}`);
  const lines = r.stdout.split("\n");
  const header = lines[0] ?? "";
  const pidIndex = header.trim().split(/\s+/).indexOf("PID");
  if (pidIndex < 0) throw new Error("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const rows = lines
    .slice(1)
    .filter((l) => l.trim() && wanted.has(Number(l.trim().split(/\s+/)[pidIndex])));
  return [header, ...rows].map((l) => l + "\n").join("");
}
