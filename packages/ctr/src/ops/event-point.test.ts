import { test } from "node:test";
import assert from "node:assert/strict";
import { parseEventPoint, type EventPoint } from "./event-point.js";

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

function show(p: EventPoint): string {
  const point = p.point!;
  if (point.case === "seq") return `seq ${point.value}`;
  if (point.case === "timestamp") return `time ${point.value.seconds}.${point.value.nanos}`;
  return "none";
}

const parse = (text: string) => show(parseEventPoint(text, "since", NOW));

test("sequence numbers, RFC 3339 times, Unix seconds and durations before now", () => {
  assert.equal(parse("seq:42"), "seq 42");
  assert.equal(parse("seq:0"), "seq 0");
  assert.equal(parse("2026-11-28T12:00:00Z"), `time ${NOW / 1000}.0`);
  assert.equal(parse("2026-11-28T13:00:00.5+01:00"), `time ${NOW / 1000}.500000000`);
  assert.equal(parse("2026-11-28T11:30:00.000000001-00:30"), `time ${NOW / 1000}.1`);
  assert.equal(parse("1795000000"), "time 1795000000.0");
  assert.equal(parse("1795000000.25"), "time 1795000000.250000000");
  assert.equal(parse("10m"), `time ${NOW / 1000 - 600}.0`);
  assert.equal(parse("1h30m"), `time ${NOW / 1000 - 5400}.0`);
  assert.equal(parse("0s"), `time ${NOW / 1000}.0`);
});

test("anything else is refused with the accepted forms", () => {
  for (const bad of [
    "",
    "seq:",
    "seq:-1",
    "yesterday",
    "2026-02-30T00:00:00Z",
    "2026-11-28",
    "10x",
  ]) {
    assert.throws(() => parseEventPoint(bad, "until", NOW), /invalid --until .*seq:N/, bad);
  }
});
