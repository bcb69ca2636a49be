import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  MetricsSchema as V1Schema,
  type Metrics as V1,
} from "@containerd-ts/gen/io/containerd/cgroups/v1/metrics_pb.js";
import {
  MetricsSchema as V2Schema,
  type Metrics as V2,
} from "@containerd-ts/gen/io/containerd/cgroups/v2/metrics_pb.js";
import { toGoJson } from "./gojson.js";

export const CGROUPS_V1_METRICS = "io.containerd.cgroups.v1.Metrics";
export const CGROUPS_V2_METRICS = "io.containerd.cgroups.v2.Metrics";

export interface DecodedMetrics {
  /** METRIC/VALUE rows as ctr prints them */
  rows: [string, string][];
  /** the whole stats message, for --json */
  json: unknown;
}

const n = (v: bigint | undefined) => String(v ?? 0n);

function v1Rows(m: V1): [string, string][] {
  const rows: [string, string][] = [];
  if (m.memory) {
    rows.push(["memory.usage_in_bytes", n(m.memory.usage?.usage)]);
    rows.push(["memory.limit_in_bytes", n(m.memory.usage?.limit)]);
    rows.push(["memory.stat.cache", n(m.memory.cache)]);
  }
  if (m.cpu) {
    rows.push(["cpuacct.usage", n(m.cpu.usage?.total)]);
    rows.push(["cpuacct.usage_percpu", `[${(m.cpu.usage?.perCpu ?? []).join(" ")}]`]);
  }
  if (m.pids) {
    rows.push(["pids.current", n(m.pids.current)]);
    rows.push(["pids.limit", n(m.pids.limit)]);
  }
  return rows;
}

function v2Rows(m: V2): [string, string][] {
  const rows: [string, string][] = [];
  if (m.pids) rows.push(["pids.current", n(m.pids.current)], ["pids.limit", n(m.pids.limit)]);
  if (m.cpu) {
    rows.push(
      ["cpu.usage_usec", n(m.cpu.usageUsec)],
      ["cpu.user_usec", n(m.cpu.userUsec)],
      ["cpu.system_usec", n(m.cpu.systemUsec)],
      ["cpu.nr_periods", n(m.cpu.nrPeriods)],
      ["cpu.nr_throttled", n(m.cpu.nrThrottled)],
      ["cpu.throttled_usec", n(m.cpu.throttledUsec)],
    );
  }
  if (m.memory) {
    rows.push(
      ["memory.usage", n(m.memory.usage)],
      ["memory.usage_limit", n(m.memory.usageLimit)],
      ["memory.swap_usage", n(m.memory.swapUsage)],
      ["memory.swap_limit", n(m.memory.swapLimit)],
    );
  }
  return rows;
}

/** The cgroup stats in a Metric's Any, v1 or v2; an unknown type yields no rows. */
export function decodeMetrics(
  data: { typeUrl: string; value: Uint8Array } | undefined,
): DecodedMetrics {
  const type = data?.typeUrl.replace(/^.*\//, "");
  const decode = <T extends object>(schema: DescMessage) =>
    fromBinary(schema, data!.value) as unknown as T;
  if (type === CGROUPS_V1_METRICS) {
    const m = decode<V1>(V1Schema);
    return { rows: v1Rows(m), json: toGoJson(V1Schema, m) };
  }
  if (type === CGROUPS_V2_METRICS) {
    const m = decode<V2>(V2Schema);
    return { rows: v2Rows(m), json: toGoJson(V2Schema, m) };
  }
  return { rows: [], json: data ? { type_url: data.typeUrl } : null };
}
