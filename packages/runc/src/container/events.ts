import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { out } from "../cli/commands.js";
import { loadContainer } from "./ops.js";
import { toRuncStats } from "./runc-stats.js";
import type { CgroupStats } from "../cgroups/types.js";

function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw errInvalidArgument(`invalid interval ${v}`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as "ms" | "s" | "m" | "h"];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw errInvalidArgument("duration interval must be greater than 0");
  return ms;
}

/** JSON where bigints print as exact integer literals (counters can pass 2^53). */
export function jsonBigints(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "bigint" ? `\u0000big:${v}` : v,
  ).replace(/"\\u0000big:(-?\d+)"/g, "$1");
}

/** `events`: --stats prints one stats event; otherwise a stats event every interval until stopped. */
export async function eventsContainer(
  root: string,
  id: string | undefined,
  statsOnce: boolean,
  interval: string,
): Promise<number> {
  const ms = parseDuration(interval);
  const c = await loadContainer(root, id);
  const cgroups = await c.cgroups();
  const emit = () =>
    out(
      jsonBigints({
        type: "stats",
        id: c.state.id,
        data: toRuncStats(cgroups.stats() as CgroupStats),
      }) + "\n",
    );
  if (statsOnce) {
    emit();
    return 0;
  }
  for (;;) {
    if (c.status() === "stopped") return 0;
    emit();
    await new Promise((r) => setTimeout(r, ms));
  }
}
