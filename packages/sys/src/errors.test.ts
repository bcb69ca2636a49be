import { test } from "node:test";
import assert from "node:assert/strict";
import { errnoCode, errnoNumber, isSyscallError, SyscallError } from "./errors.js";

test("errno numbers map to their symbolic codes", () => {
  assert.equal(errnoCode(1), "EPERM");
  assert.equal(errnoCode(2), "ENOENT");
  assert.equal(errnoCode(11), "EAGAIN");
  assert.equal(errnoCode(22), "EINVAL");
  assert.equal(errnoCode(9999), "E9999");
  assert.equal(errnoNumber("EBUSY"), 16);
});

test("SyscallError carries the call, the errno code and the path", () => {
  const e = new SyscallError("mount", 1, "/proc");
  assert.equal(e.syscall, "mount");
  assert.equal(e.errno, 1);
  assert.equal(e.code, "EPERM");
  assert.equal(e.path, "/proc");
  assert.match(e.message, /^mount \/proc: /);
  assert.ok(isSyscallError(e, "EPERM"));
  assert.ok(!isSyscallError(e, "ENOENT"));
  assert.equal(new SyscallError("setsid", 1).path, undefined);
});
