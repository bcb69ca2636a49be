import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isRoot, REPO, TestDaemon } from "./ctr-harness.js";
import { removeNamespaceLeftovers } from "./leftovers.js";

/**
 * ctr-ts run / tasks against a daemon (issue 4's scenario with ctr-ts). Runs as root with the
 * busybox rootfs; skips while the daemon has no Tasks service (UNIMPLEMENTED).
 * CTR_TS_E2E_RUNTIME picks the runtime (default io.containerd.runc.v2).
 */

const daemon = new TestDaemon(`ctr-run-${process.pid}`);
const rootfs = join(daemon.dir, "rootfs");
const fifoDir = join(daemon.dir, "fifo");
const runtime = process.env.CTR_TS_E2E_RUNTIME ?? "io.containerd.runc.v2";
let skip: string | undefined;

before(async () => {
  if (!isRoot) {
    skip = "containers need root";
  } else {
    skip = await daemon.start();
  }
  if (!skip) {
    const probe = await daemon.ctr(["tasks", "ls"]);
    if (
      probe.code !== 0 &&
      /unimplemented|unknown (method|service)|not implemented/i.test(probe.stderr)
    ) {
      skip = `the daemon has no Tasks service yet: ${probe.stderr.trim()}`;
    }
  }
  if (skip) {
    console.log(`# skipping ctr-ts run/tasks e2e: ${skip}`);
    return;
  }
  execFileSync(join(REPO, "scripts", "make-rootfs.sh"), [rootfs]);
  mkdirSync(fifoDir);
  process.env.CTR_TS_FIFO_DIR = fifoDir;
});
after(async () => {
  if (!skip) {
    // nothing may stay behind, even when a test failed half-way
    for (const id of ["hello", "seven", "stdin", "tty", "bg"]) {
      await daemon.ctr(["tasks", "rm", "-f", id]);
      await daemon.ctr(["containers", "rm", id]);
    }
  }
  await daemon.stop();
  // the runc shim leaves runc's state root and the namespace's parent cgroup behind
  if (!skip) await removeNamespaceLeftovers(daemon.namespace);
});

const run = (...args: string[]) => ["run", "--runtime", runtime, "--rootfs", rootfs, ...args];

test("run --rm prints the output and exits with the task's status", async (t) => {
  if (skip) return t.skip(skip);
  const hi = await daemon.ctr(run("--rm", "hello", "/bin/echo", "hi"));
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, "hi\n");
  const seven = await daemon.ctr(
    run("--rm", "seven", "/bin/sh", "-c", "echo out; echo err >&2; exit 7"),
  );
  assert.equal(seven.code, 7);
  assert.equal(seven.stdout, "out\n");
  assert.equal(seven.stderr, "err\n");
  assert.equal((await daemon.ctr(["c", "ls", "-q"])).stdout, "", "--rm removed the containers");
  assert.deepEqual(readdirSync(fifoDir), [], "the FIFO dirs are gone");
});

test("run -i feeds stdin, EOF included", async (t) => {
  if (skip) return t.skip(skip);
  const r = await daemon.ctr(
    run("--rm", "-i", "stdin", "/bin/sh", "-c", "read l; echo got-$l; cat"),
    {
      input: "x\nrest\n",
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "got-x\nrest\n");
});

test("run -t gives the process a terminal", async (t) => {
  if (skip) return t.skip(skip);
  const r = await daemon.ctr(run("--rm", "-t", "tty", "/bin/sh", "-c", "tty; exit 3"));
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n/);
});

test("run -d, tasks ls/exec/ps/pause/resume/metrics/kill/rm, containers rm", async (t) => {
  if (skip) return t.skip(skip);
  const d = await daemon.ctr(run("-d", "bg", "/bin/sleep", "1000"));
  assert.equal(d.code, 0, d.stderr);
  assert.match((await daemon.ctr(["tasks", "ls"])).stdout, /^bg +\d+ +RUNNING$/m);

  const ps = await daemon.ctr(["tasks", "exec", "--exec-id", "e1", "bg", "/bin/ps"]);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /sleep 1000/);
  const dup = await daemon.ctr([
    "tasks",
    "exec",
    "--exec-id",
    "e9",
    "bg",
    "/bin/sh",
    "-c",
    "exit 5",
  ]);
  assert.equal(dup.code, 5, "exec exits with the process's status");

  const pids = await daemon.ctr(["t", "ps", "bg"]);
  assert.match(pids.stdout, /^PID +INFO\n\d+ /);
  assert.equal((await daemon.ctr(["t", "pause", "bg"])).code, 0);
  assert.match((await daemon.ctr(["t", "ls"])).stdout, /^bg +\d+ +PAUSED$/m);
  assert.equal((await daemon.ctr(["t", "resume", "bg"])).code, 0);
  assert.match((await daemon.ctr(["t", "ls"])).stdout, /^bg +\d+ +RUNNING$/m);
  const metrics = await daemon.ctr(["t", "metrics", "bg"]);
  assert.equal(metrics.code, 0, metrics.stderr);
  assert.match(metrics.stdout, /^METRIC +VALUE$/m);
  const jm = JSON.parse((await daemon.ctr(["--json", "t", "metrics", "bg"])).stdout) as {
    id: string;
  };
  assert.equal(jm.id, "bg");

  const busy = await daemon.ctr(["c", "rm", "bg"]);
  assert.equal(busy.code, 1, "a container with a running task is not deleted");

  assert.equal((await daemon.ctr(["t", "kill", "-s", "SIGKILL", "bg"])).code, 0);
  let listing = "";
  for (let i = 0; i < 200 && !/^bg +\d+ +STOPPED$/m.test(listing); i++) {
    listing = (await daemon.ctr(["t", "ls"])).stdout;
  }
  assert.match(listing, /^bg +\d+ +STOPPED$/m);
  const rm = await daemon.ctr(["--json", "t", "rm", "bg"]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(JSON.parse(rm.stdout), [{ id: "bg", exitStatus: 137 }]);
  assert.equal((await daemon.ctr(["c", "rm", "bg"])).code, 0);
  assert.equal((await daemon.ctr(["t", "ls", "-q"])).stdout, "");
});

test("bad input: unknown container, task started twice", async (t) => {
  if (skip) return t.skip(skip);
  const unknown = await daemon.ctr(["t", "ps", "nope"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not found/);
  assert.equal((await daemon.ctr(run("-d", "bg", "/bin/sleep", "1000"))).code, 0);
  const twice = await daemon.ctr(["t", "start", "-d", "bg"]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /already exists/);
  assert.equal((await daemon.ctr(["t", "rm", "-f", "bg"])).code, 0);
  assert.equal((await daemon.ctr(["c", "rm", "bg"])).code, 0);
});
