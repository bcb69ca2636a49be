import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The real bin, without a daemon: command discovery, aliases, global flags, error exits.
const bin = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const ctrTs = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, CONTAINERD_ADDRESS: "/nonexistent/ctr-ts-test.sock" },
  });

test("every command is discovered", () => {
  const help = ctrTs("--help");
  assert.equal(help.status, 0, help.stderr);
  for (const topic of ["containers", "namespaces", "tasks", "events", "run", "version"]) {
    assert.match(help.stdout, new RegExp(`^  ${topic}\\b`, "m"), topic);
  }
  const tasks = ctrTs("tasks", "--help");
  for (const cmd of [
    "ls",
    "start",
    "attach",
    "kill",
    "ps",
    "exec",
    "pause",
    "resume",
    "rm",
    "metrics",
  ]) {
    assert.match(tasks.stdout, new RegExp(`tasks ${cmd}\\b`), cmd);
  }
});

test("an unreachable daemon: ctr-ts: <message>, exit 1, whichever side of the command the flags are", () => {
  for (const argv of [
    ["-n", "x", "containers", "ls"],
    ["c", "ls", "-n", "x"],
    ["--address", "/nonexistent/other.sock", "ns", "list"],
    ["t", "ls", "--timeout", "1s"],
  ]) {
    const r = ctrTs(...argv);
    assert.equal(r.status, 1, argv.join(" "));
    assert.match(r.stderr, /^ctr-ts: .*(ENOENT|connect)/, argv.join(" "));
  }
});

test("bad usage is refused before any call", () => {
  assert.notEqual(
    ctrTs("containers", "create", "c1", "/bin/true").status,
    0,
    "--rootfs is required",
  );
  const bad = ctrTs("ns", "ls", "--timeout", "soon");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid duration/);
  const sig = ctrTs("tasks", "kill", "-s", "SIGNOPE", "c1");
  assert.equal(sig.status, 1);
  assert.match(sig.stderr, /unknown signal/);
});
