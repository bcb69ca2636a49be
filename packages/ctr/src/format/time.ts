/** A protobuf Timestamp as protobuf-es gives it (seconds are int64). */
export interface TimestampLike {
  seconds: bigint;
  nanos: number;
}

/** Go's zero time.Time, which containerd sends for "never" (e.g. exited_at of a running task). */
export const GO_ZERO_SECONDS = -62135596800n;

export function isZeroTime(ts: TimestampLike | undefined): boolean {
  return (
    !ts ||
    (ts.seconds === GO_ZERO_SECONDS && ts.nanos === 0) ||
    (ts.seconds === 0n && ts.nanos === 0)
  );
}

function datePart(ts: TimestampLike): { day: string; clock: string } {
  const iso = new Date(Number(ts.seconds) * 1000).toISOString(); // yyyy-mm-ddThh:mm:ss.000Z
  return { day: iso.slice(0, 10), clock: iso.slice(11, 19) };
}

/** Go drops trailing zeros of the fraction (".45002949"), and the dot when nothing is left. */
function fraction(nanos: number): string {
  if (nanos === 0) return "";
  return "." + String(nanos).padStart(9, "0").replace(/0+$/, "");
}

/** time.Time.String() in UTC: `2026-11-28 12:44:09.232480133 +0000 UTC` (ctr's events format). */
export function goTimeString(ts: TimestampLike): string {
  const { day, clock } = datePart(ts);
  return `${day} ${clock}${fraction(ts.nanos)} +0000 UTC`;
}

/** RFC 3339 with nanoseconds as Go's time.RFC3339Nano prints it. */
export function rfc3339Nano(ts: TimestampLike): string {
  const { day, clock } = datePart(ts);
  return `${day}T${clock}${fraction(ts.nanos)}Z`;
}

export function timestampFromDate(d: Date): TimestampLike {
  const ms = d.getTime();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/**
 * Parses `--since/--until`-style times: RFC 3339 / ISO 8601 dates, or a relative Go duration
 * back from now ("10m", "1h").
 */
export function parseTimeArg(text: string, now = new Date()): Date | undefined {
  const rel = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (rel) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[rel[2] as "ms" | "s" | "m" | "h"];
    return new Date(now.getTime() - Number(rel[1]) * unit);
  }
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
