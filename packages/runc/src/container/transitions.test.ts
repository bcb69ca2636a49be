import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs/errors.js";
import { assertCan, canDo, type Operation } from "./transitions.js";
import type { Status } from "./state.js";

test("the lifecycle table: what each status allows", () => {
  const statuses: Status[] = ["created", "running", "paused", "stopped"];
  const table = Object.fromEntries(
    (["start", "pause", "resume", "kill", "exec", "update", "delete"] as Operation[]).map((op) => [
      op,
      statuses.filter((s) => canDo(op, s)),
    ]),
  );
  assert.deepEqual(table, {
    start: ["created"],
    pause: ["created", "running"],
    resume: ["paused"],
    kill: ["created", "running", "paused"],
    exec: ["created", "running"],
    update: ["created", "running", "paused"],
    delete: ["created", "stopped"],
  });
});

test("illegal moves fail with FailedPrecondition and runc's words", () => {
  const msg = (op: Operation, s: Status) => {
    try {
      assertCan(op, s, "c1");
    } catch (e) {
      assert.equal(kindOf(e), ErrorKind.FailedPrecondition);
      return (e as Error).message;
    }
    return "allowed";
  };
  assert.equal(msg("start", "stopped"), "cannot start a container that has stopped");
  assert.equal(msg("start", "running"), "cannot start an already running container");
  assert.equal(msg("resume", "running"), "container not paused");
  assert.equal(msg("kill", "stopped"), "container not running");
  assert.equal(msg("exec", "paused"), "cannot exec in a paused state");
  assert.equal(msg("delete", "running"), "cannot delete container c1 that is not stopped: running");
  assert.equal(msg("start", "created"), "allowed");
});
