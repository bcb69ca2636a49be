import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ErrorKind,
  errNotFound,
  fromGrpcStatus,
  kindOf,
  validateIdentifier,
  validateLabel,
} from "./index.js";
import { toConnectError } from "./grpc.js";

test("valid identifiers pass", () => {
  for (const id of ["a", "default", "web-1", "a.b_c-d", "A1", "x".repeat(76)]) {
    assert.equal(validateIdentifier(id), id);
  }
});

test("invalid identifiers are InvalidArgument", () => {
  for (const id of ["", "-a", "a-", "a..b", "a/b", "../x", "a b", "x".repeat(77), "é"]) {
    assert.throws(
      () => validateIdentifier(id, "id"),
      (e) => kindOf(e) === ErrorKind.InvalidArgument,
    );
  }
});

test("label size is capped at 4096 bytes", () => {
  validateLabel("k", "v".repeat(4095));
  assert.throws(
    () => validateLabel("k", "v".repeat(4096)),
    (e) => kindOf(e) === ErrorKind.InvalidArgument,
  );
});

test("kinds map to gRPC codes and back", () => {
  const ce = toConnectError(errNotFound("x"));
  assert.ok(ce instanceof ConnectError);
  assert.equal(ce.code, Code.NotFound);
  assert.equal(kindOf(fromGrpcStatus(9, "m")), ErrorKind.FailedPrecondition);
  assert.equal(kindOf(fromGrpcStatus(12, "m")), ErrorKind.NotImplemented);
  assert.equal(toConnectError(new Error("boom")).code, Code.Unknown);
});
