import { create } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  PositionSchema,
  type Position,
} from "@containerd-ts/gen/containerd_ts/events/v1/history_pb.js";
import { parseDuration } from "../duration.js";

/** The wire form of a --since/--until point. */
export type EventPoint = Position;

const seqPoint = (value: bigint) => create(PositionSchema, { point: { case: "seq", value } });
const timePoint = (value: Timestamp) =>
  create(PositionSchema, { point: { case: "timestamp", value } });

export const EVENT_POINT_HELP =
  "seq:N (a sequence number), an RFC 3339 time (2026-11-28T12:00:00Z), " +
  "a Unix time in seconds (1795000000.5), or a duration before now (10m, 1h30m; 0s = now)";

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const UNIX_SECONDS = /^(\d+)(?:\.(\d{1,9}))?$/;
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;

const nanosOf = (fraction: string | undefined) => Number((fraction ?? "").padEnd(9, "0"));

function rfc3339(m: RegExpExecArray): Timestamp {
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const offsetMin = sign ? (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const check = new Date(local);
  if (
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(s) > 59
  ) {
    throw new Error("no such date");
  }
  const seconds = BigInt((local - offsetMin * 60_000) / 1000);
  return create(TimestampSchema, { seconds, nanos: nanosOf(frac) });
}

/**
 * Parses a --since/--until value; `now` is the reference for durations. Throws an Error
 * whose message names the flag and the accepted forms.
 */
export function parseEventPoint(text: string, flag: string, now = Date.now()): EventPoint {
  const s = text.trim();
  try {
    const seq = /^seq:(\d+)$/.exec(s);
    if (seq) return seqPoint(BigInt(seq[1]!));
    const unix = UNIX_SECONDS.exec(s);
    if (unix) {
      return timePoint(
        create(TimestampSchema, { seconds: BigInt(unix[1]!), nanos: nanosOf(unix[2]) }),
      );
    }
    const time = RFC3339.exec(s);
    if (time) return timePoint(rfc3339(time));
    if (GO_DURATION.test(s)) {
      const ago = parseDuration(s) ?? 0;
      return timePoint(timestampFromMs(Math.round(now - ago)));
    }
  } catch {
    // reported below with the accepted forms
  }
  throw new Error(`invalid --${flag} "${text}": want ${EVENT_POINT_HELP}`);
}
