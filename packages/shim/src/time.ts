import { create } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Go's zero time.Time on the wire: what containerd sends for "not exited". */
export const ZERO_TIME_SECONDS = -62135596800n;

export function zeroTimestamp(): Timestamp {
  return create(TimestampSchema, { seconds: ZERO_TIME_SECONDS, nanos: 0 });
}

/** A Date as a Timestamp; undefined → Go's zero time, never 1970. */
export function toTimestamp(d: Date | undefined): Timestamp {
  return d ? timestampFromDate(d) : zeroTimestamp();
}
