import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { TaskExitSchema, TaskStartSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";
import { eventAny } from "../runtime/events.js";
import { ExitDeduper } from "./dedupe.js";

const exitAny = (pid: number, seconds: bigint) =>
  eventAny(
    TaskExitSchema.typeName,
    toBinary(
      TaskExitSchema,
      create(TaskExitSchema, {
        containerId: "c",
        id: "c",
        pid,
        exitStatus: 0,
        exitedAt: { seconds, nanos: 5 },
      }),
    ),
  );

test("a TaskExit passes once per (container, exec id, pid, exited_at)", () => {
  const d = new ExitDeduper(2);
  assert.equal(d.isDuplicate("ns", "/tasks/exit", exitAny(1, 10n)), false);
  assert.equal(d.isDuplicate("ns", "/tasks/exit", exitAny(1, 10n)), true);
  assert.equal(d.isDuplicate("other", "/tasks/exit", exitAny(1, 10n)), false);
  assert.equal(d.isDuplicate("ns", "/tasks/exit", exitAny(2, 10n)), false);
  // capacity 2: the oldest identity is forgotten
  assert.equal(d.isDuplicate("ns", "/tasks/exit", exitAny(1, 10n)), false);
});

test("other topics are never deduplicated", () => {
  const d = new ExitDeduper();
  const start = eventAny(
    TaskStartSchema.typeName,
    toBinary(TaskStartSchema, create(TaskStartSchema, { containerId: "c", pid: 1 })),
  );
  assert.equal(d.isDuplicate("ns", "/tasks/start", start), false);
  assert.equal(d.isDuplicate("ns", "/tasks/start", start), false);
});
