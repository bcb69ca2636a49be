import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import {
  EXEC_TRANSITIONS,
  INIT_TRANSITIONS,
  nextState,
  type Operation,
  type ProcessState,
} from "./lifecycle.js";

function kind(fn: () => unknown): ErrorKind | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return kindOf(e);
  }
}

test("init: created → running → paused → running → stopped → deleted", () => {
  let s: ProcessState = "created";
  for (const [op, want] of [
    ["start", "running"],
    ["pause", "paused"],
    ["resume", "running"],
    ["exit", "stopped"],
    ["delete", "deleted"],
  ] as Array<[Operation, ProcessState]>) {
    s = nextState(INIT_TRANSITIONS, s, op);
    assert.equal(s, want);
  }
});

test("init: illegal moves are FailedPrecondition", () => {
  const cases: Array<[ProcessState, Operation]> = [
    ["created", "pause"],
    ["created", "resume"],
    ["created", "checkpoint"],
    ["running", "start"],
    ["running", "delete"],
    ["running", "resume"],
    ["paused", "pause"],
    ["paused", "start"],
    ["paused", "delete"],
    ["paused", "exec"],
    ["stopped", "start"],
    ["stopped", "exec"],
    ["stopped", "update"],
    ["stopped", "pause"],
    ["deleted", "start"],
  ];
  for (const [state, op] of cases) {
    assert.equal(
      kind(() => nextState(INIT_TRANSITIONS, state, op)),
      ErrorKind.FailedPrecondition,
      `${state} ${op}`,
    );
  }
});

test("deleted: delete and kill are NotFound", () => {
  assert.equal(
    kind(() => nextState(INIT_TRANSITIONS, "deleted", "delete")),
    ErrorKind.NotFound,
  );
  assert.equal(
    kind(() => nextState(INIT_TRANSITIONS, "deleted", "kill")),
    ErrorKind.NotFound,
  );
  assert.equal(
    kind(() => nextState(EXEC_TRANSITIONS, "deleted", "kill")),
    ErrorKind.NotFound,
  );
});

test("allowed operations keep the state", () => {
  assert.equal(nextState(INIT_TRANSITIONS, "running", "kill"), "running");
  assert.equal(nextState(INIT_TRANSITIONS, "created", "exec"), "created");
  assert.equal(nextState(INIT_TRANSITIONS, "stopped", "exit"), "stopped");
  assert.equal(nextState(INIT_TRANSITIONS, "stopped", "resize"), "stopped");
});

test("exec: created → running → stopped → deleted; a running exec cannot be deleted or resized when stopped", () => {
  let s: ProcessState = "created";
  s = nextState(EXEC_TRANSITIONS, s, "start");
  assert.equal(
    kind(() => nextState(EXEC_TRANSITIONS, "running", "delete")),
    ErrorKind.FailedPrecondition,
  );
  s = nextState(EXEC_TRANSITIONS, s, "exit");
  assert.equal(s, "stopped");
  assert.equal(
    kind(() => nextState(EXEC_TRANSITIONS, "stopped", "resize")),
    ErrorKind.FailedPrecondition,
  );
  assert.equal(nextState(EXEC_TRANSITIONS, s, "delete"), "deleted");
  assert.equal(
    kind(() => nextState(EXEC_TRANSITIONS, "created", "pause")),
    ErrorKind.FailedPrecondition,
  );
});
