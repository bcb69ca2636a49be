import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorMessage, isNotFound } from "./errors.js";

test("server messages end with their code's text once, as ctr prints them", () => {
  assert.equal(
    errorMessage(new ConnectError("task c1 not found", Code.NotFound)),
    "task c1 not found: not found",
  );
  assert.equal(
    errorMessage(new ConnectError('container "x" in namespace "n": not found', Code.NotFound)),
    'container "x" in namespace "n": not found',
  );
  assert.equal(
    errorMessage(new ConnectError("cannot pause a paused container", Code.Unknown)),
    "cannot pause a paused container: unknown",
  );
  assert.equal(
    errorMessage(
      new ConnectError("parse error: invalid argument: invalid argument", Code.InvalidArgument),
    ),
    "parse error: invalid argument: invalid argument",
  );
  assert.equal(errorMessage(new Error("local")), "local");
  assert.ok(isNotFound(new ConnectError("x", Code.NotFound)));
  assert.ok(!isNotFound(new Error("x")));
});
