import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ContainerCreateSchema } from "@containerd-ts/gen/containerd/events/container_pb.js";
import { TaskExitSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";
import { EnvelopeSchema } from "@containerd-ts/gen/containerd/services/events/v1/events_pb.js";
import { toBinary } from "@bufbuild/protobuf";
import { formatLabels, formatTable } from "./table.js";
import { goTimeString, isZeroTime, parseTimeArg, rfc3339Nano, GO_ZERO_SECONDS } from "./time.js";
import { toGoJson } from "./gojson.js";
import { eventJson, formatEventLine } from "./events.js";

test("tables align like ctr's tabwriter, without trailing blanks", () => {
  assert.equal(
    formatTable(["CONTAINER", "IMAGE", "RUNTIME"], [["c1", "-", "io.containerd.runc.v2"]]),
    "CONTAINER    IMAGE    RUNTIME\nc1           -        io.containerd.runc.v2\n",
  );
  assert.equal(formatTable(["NAME", "LABELS"], [["default", ""]], 1), "NAME    LABELS\ndefault\n");
  assert.equal(formatLabels({ b: "2", a: "1" }), "a=1,b=2");
});

test("times print like Go: trailing zeros of the fraction dropped, zero time recognised", () => {
  const ts = { seconds: 1795869849n, nanos: 450029490 };
  assert.equal(goTimeString(ts), "2026-11-28 12:44:09.45002949 +0000 UTC");
  assert.equal(rfc3339Nano(ts), "2026-11-28T12:44:09.45002949Z");
  assert.equal(rfc3339Nano({ seconds: 1795869849n, nanos: 0 }), "2026-11-28T12:44:09Z");
  assert.equal(rfc3339Nano({ seconds: GO_ZERO_SECONDS, nanos: 0 }), "0001-01-01T00:00:00Z");
  assert.ok(isZeroTime({ seconds: GO_ZERO_SECONDS, nanos: 0 }));
  assert.ok(!isZeroTime(ts));
  const now = new Date("2026-01-01T01:00:00Z");
  assert.equal(parseTimeArg("10m", now)?.toISOString(), "2026-01-01T00:50:00.000Z");
  assert.equal(parseTimeArg("2026-01-01T00:00:00Z")?.toISOString(), "2026-01-01T00:00:00.000Z");
  assert.equal(parseTimeArg("yesterday-ish"), undefined);
});

test("event payloads print as ctr prints them (Go encoding/json of the gogo structs)", () => {
  const cc = create(ContainerCreateSchema, {
    id: "r1",
    runtime: {
      name: "io.containerd.runc.v2",
      options: { typeUrl: "containerd.runc.v1.Options", value: new Uint8Array() },
    },
  });
  assert.equal(
    JSON.stringify(toGoJson(ContainerCreateSchema, cc)),
    '{"id":"r1","runtime":{"name":"io.containerd.runc.v2","options":{"type_url":"containerd.runc.v1.Options"}}}',
  );
  const exit = create(TaskExitSchema, {
    containerId: "r1",
    id: "e1",
    pid: 11952,
    exitedAt: { seconds: 1795869849n, nanos: 530375584 },
  });
  const env = create(EnvelopeSchema, {
    timestamp: { seconds: 1795869849n, nanos: 530972982 },
    namespace: "default",
    topic: "/tasks/exit",
    event: { typeUrl: "containerd.events.TaskExit", value: toBinary(TaskExitSchema, exit) },
  });
  assert.equal(
    formatEventLine(env),
    '2026-11-28 12:44:09.530972982 +0000 UTC default /tasks/exit {"container_id":"r1","id":"e1","pid":11952,"exited_at":"2026-11-28T12:44:09.530375584Z"}',
  );
  assert.deepEqual(eventJson(env).event, {
    container_id: "r1",
    id: "e1",
    pid: 11952,
    exited_at: "2026-11-28T12:44:09.530375584Z",
  });
  const unknown = create(EnvelopeSchema, {
    topic: "/x",
    event: { typeUrl: "example.Unknown", value: new Uint8Array([1]) },
  });
  assert.deepEqual(eventJson(unknown).event, { type_url: "example.Unknown", value: "AQ==" });
});
