import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { BoundsResponseSchema } from "@containerd-ts/gen/containerd_ts/events/v1/history_pb.js";
import { truncationWarning } from "./event-history.js";
import { parseEventPoint } from "./event-point.js";

const bounds = (firstSeq: bigint, firstSeconds: bigint) =>
  create(BoundsResponseSchema, {
    firstSeq,
    lastSeq: firstSeq + 10n,
    firstTimestamp: create(TimestampSchema, { seconds: firstSeconds, nanos: 500 }),
  });

const at = (s: string) => parseEventPoint(s, "since");

test("a start older than the oldest retained event is warned about", () => {
  const pruned = bounds(51n, 1_800_000_000n);
  assert.match(truncationWarning(at("seq:50"), pruned), /before sequence 51/);
  assert.equal(truncationWarning(at("seq:51"), pruned), "");
  assert.match(truncationWarning(at("1800000000"), pruned), /before sequence 51/);
  assert.equal(truncationWarning(at("1800000000.000000500"), pruned), "");
  assert.match(truncationWarning(undefined, pruned), /before sequence 51/);
});

test("nothing dropped yet: no warning", () => {
  assert.equal(truncationWarning(at("seq:1"), bounds(1n, 1_800_000_000n)), "");
  assert.equal(truncationWarning(undefined, bounds(0n, 0n)), "");
});
