import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeExec, RecordingSyscalls } from "./fake.js";
import { isSyscallError } from "./errors.js";
import { MS_BIND, MS_REC } from "./constants.js";

test("the fake records typed calls in order", () => {
  const s = new RecordingSyscalls();
  s.mount("/a", "/b", null, MS_BIND | MS_REC, null);
  s.sethostname("box");
  const fd = s.open("/x", 0);
  assert.equal(fd, 100);
  assert.deepEqual(s.calls, [
    { name: "mount", args: ["/a", "/b", null, MS_BIND | MS_REC, null] },
    { name: "sethostname", args: ["box"] },
    { name: "open", args: ["/x", 0, 0] },
  ]);
  assert.deepEqual(s.names(), ["mount", "sethostname", "open"]);
});

test("the fake fails the nth call overall with a SyscallError", () => {
  const s = new RecordingSyscalls().failNth(2, "EPERM");
  s.chdir("/");
  assert.throws(
    () => s.mount(null, "/proc", "proc", 0, null),
    (e: unknown) => isSyscallError(e, "EPERM") && e.syscall === "mount" && e.path === "/proc",
  );
  s.chdir("/again");
  assert.equal(s.calls.length, 3);
});

test("the fake fails the nth call of one name", () => {
  const s = new RecordingSyscalls().failCall("mount", "EBUSY", 2);
  s.mount(null, "/one", "tmpfs", 0, null);
  s.chdir("/");
  assert.throws(
    () => s.mount(null, "/two", "tmpfs", 0, null),
    (e: unknown) => isSyscallError(e, "EBUSY"),
  );
});

test("the fake's execve throws FakeExec with what would have run", () => {
  const s = new RecordingSyscalls();
  assert.throws(
    () => s.execve("/bin/sh", ["sh"], ["A=1"], [0, 1, 2]),
    (e: unknown) => e instanceof FakeExec && e.path === "/bin/sh" && e.argv[0] === "sh",
  );
  assert.deepEqual(s.argsOf("execve"), [["/bin/sh", ["sh"], ["A=1"], [0, 1, 2]]]);
});
