import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs/errors.js";
import { validateSpec } from "./config.js";
import { defaultSpec } from "./default.js";

function spec(mutate: (s: ReturnType<typeof defaultSpec> & Record<string, unknown>) => void) {
  const s = structuredClone(defaultSpec()) as ReturnType<typeof defaultSpec> &
    Record<string, unknown>;
  mutate(s);
  return s;
}

function rejects(mutate: Parameters<typeof spec>[0], field: string) {
  assert.throws(
    () => validateSpec(spec(mutate), "c1", "/bundle"),
    (e: unknown) => kindOf(e) === ErrorKind.InvalidArgument && (e as Error).message.includes(field),
    `expected an error naming ${field}`,
  );
}

test("runc's default spec validates into the internal config", () => {
  const c = validateSpec(defaultSpec(), "c1", "/bundle");
  assert.equal(c.rootfs, "/bundle/rootfs");
  assert.equal(c.readonlyRoot, true);
  assert.equal(c.hostname, "runc");
  assert.equal(c.cgroupsPath, "/c1");
  assert.deepEqual(
    c.namespaces.map((n) => n.type),
    ["pid", "network", "ipc", "uts", "mount"],
  );
  assert.deepEqual(c.process.rlimits, [
    { type: "RLIMIT_NOFILE", resource: 7, soft: 1024n, hard: 1024n },
  ]);
  assert.deepEqual(c.process.capabilities?.bounding, [
    "CAP_AUDIT_WRITE",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
  ]);
  assert.equal(c.process.noNewPrivileges, true);
});

test("a bad config.json names the offending field", () => {
  rejects((s) => delete (s as Record<string, unknown>).ociVersion, "ociVersion");
  rejects((s) => delete s.root, "root.path");
  rejects((s) => (s.process!.args = []), "process.args");
  rejects((s) => (s.process!.cwd = "relative"), "process.cwd");
  rejects(
    (s) => ((s.process!.user as unknown as Record<string, unknown>).uid = -1),
    "process.user.uid",
  );
  rejects(
    (s) => s.process!.capabilities!.bounding!.push("CAP_NOPE"),
    "process.capabilities.bounding[3]",
  );
  rejects(
    (s) => s.process!.rlimits!.push({ type: "RLIMIT_BOGUS", soft: 1, hard: 1 }),
    "process.rlimits[1].type",
  );
  rejects((s) => (s.process!.rlimits![0]!.soft = 2048), "process.rlimits[0].soft");
  rejects((s) => (s.process!.env = ["NOEQUALS"]), "process.env[0]");
  rejects((s) => (s.mounts![0]!.destination = "proc"), "mounts[0].destination");
  rejects((s) => s.linux!.namespaces!.push({ type: "user" }), "linux.namespaces[5].type");
  rejects((s) => s.linux!.namespaces!.push({ type: "pid" }), "linux.namespaces[5].type");
  rejects((s) => (s.linux!.namespaces = [{ type: "mount" }]), "hostname");
  rejects((s) => (s.linux!.namespaces = [{ type: "uts" }]), "linux.namespaces");
  rejects((s) => (s.linux!.rootfsPropagation = "sideways"), "linux.rootfsPropagation");
  rejects((s) => (s.hooks = { prestart: [{ path: "relative" }] }), "hooks.prestart[0].path");
  rejects(
    (s) => (s.hooks = { poststop: [{ path: "/bin/true", timeout: 0 }] }),
    "hooks.poststop[0].timeout",
  );
  rejects((s) => (s.linux!.devices = [{ type: "x", path: "/dev/x" }]), "linux.devices[0].type");
  rejects(
    (s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    "linux.uidMappings",
  );
});

test("a relative cgroupsPath and an absolute root path are kept", () => {
  const c = validateSpec(
    spec((s) => {
      s.root = { path: "/abs/rootfs" };
      s.linux!.cgroupsPath = "mygroup/c1";
    }),
    "c1",
    "/bundle",
  );
  assert.equal(c.rootfs, "/abs/rootfs");
  assert.equal(c.readonlyRoot, false);
  assert.equal(c.cgroupsPath, "mygroup/c1");
});
