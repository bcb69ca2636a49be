import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describeEachRuntime, tasksLsUntil } from "./tasks-support.js";

/** The real ctr 1.6 against containerd-ts, with the real runc shim and with ours. */

describeEachRuntime("real ctr → containerd-ts", "tasks-ctr", (s) => {
  test("run --rm echo hi", async () => {
    const r = await s.run("echo-hi", ["/bin/echo", "hi"], { flags: ["--rm"] });
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi\n");
    assert.equal(r.code, 0);
    const ls = await s.ctr(["containers", "ls", "-q"]);
    assert.doesNotMatch(ls.stdout, /echo-hi/);
  });

  test("exit status travels: sh -c 'exit 7' → 7", async () => {
    const r = await s.run("exit7", ["/bin/sh", "-c", "exit 7"], { flags: ["--rm"] });
    assert.equal(r.code, 7);
  });

  test("stdin piped in", async () => {
    const r = await s.run("stdin1", ["/bin/sh", "-c", "read l; echo got-$l"], {
      flags: ["--rm"],
      input: "x\n",
    });
    assert.equal(r.stdout, "got-x\n");
    assert.equal(r.code, 0);
  });

  test("-t gives a tty", async () => {
    // script(1) gives ctr a terminal of its own; the container's stdout must be a pty
    const cmd = [
      "ctr",
      "-a",
      s.daemon.address,
      "-n",
      s.ns,
      "run",
      "--runtime",
      s.runtime,
      "--rm",
      "-t",
      "--rootfs",
      s.rootfs,
      "tty1",
      "/bin/tty",
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const out = await new Promise<string>((resolve) => {
      const child = spawn("script", ["-qec", cmd, "/dev/null"], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let text = "";
      child.stdout.on("data", (b: Buffer) => (text += b.toString()));
      child.stderr.on("data", (b: Buffer) => (text += b.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("close", () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    assert.match(out, /\/dev\/pts\/\d+/);
  });

  test("detached task: ls, exec, ps, pause/resume, metrics, kill, rm", async () => {
    const id = "detached1";
    const started = await s.run(id, ["/bin/sleep", "1000"], { flags: ["-d"] });
    assert.equal(started.code, 0, started.stderr);
    let ls = await s.ctr(["tasks", "ls"]);
    assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));

    const ex = await s.ctr(["tasks", "exec", "--exec-id", "e1", id, "/bin/ps"]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /sleep 1000/);

    const ps = await s.ctr(["tasks", "ps", id]);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^PID/m);
    assert.ok(ps.stdout.trim().split("\n").length >= 2);

    assert.equal((await s.ctr(["tasks", "pause", id])).code, 0);
    ls = await s.ctr(["tasks", "ls"]);
    assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+PAUSED`));
    assert.equal((await s.ctr(["tasks", "resume", id])).code, 0);
    ls = await s.ctr(["tasks", "ls"]);
    assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));

    const metrics = await s.ctr(["tasks", "metrics", id]);
    assert.equal(metrics.code, 0, metrics.stderr);
    assert.match(metrics.stdout, new RegExp(id));

    const rmRunning = await s.ctr(["tasks", "rm", id]);
    assert.notEqual(rmRunning.code, 0);

    assert.equal((await s.ctr(["tasks", "kill", "-s", "SIGKILL", id])).code, 0);
    const stopped = new RegExp(`${id}\\s+\\d+\\s+STOPPED`);
    assert.match(await tasksLsUntil(s, stopped), stopped);
    const rm = await s.ctr(["tasks", "rm", id]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stderr, /137/);
    const crm = await s.ctr(["containers", "rm", id]);
    assert.equal(crm.code, 0, crm.stderr);
    assert.doesNotMatch((await s.ctr(["containers", "ls", "-q"])).stdout, new RegExp(id));
  });

  test("duplicate exec id is refused, unknown container is not found", async () => {
    const id = "dupexec";
    assert.equal((await s.run(id, ["/bin/sleep", "1000"], { flags: ["-d"] })).code, 0);
    const first = s.ctr(["tasks", "exec", "--exec-id", "same", id, "/bin/sleep", "5"]);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await s.ctr(["tasks", "exec", "--exec-id", "same", id, "/bin/true"]);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /already exists/);
    await s.ctr(["tasks", "kill", "-a", "-s", "SIGKILL", id]);
    await first;
    await s.ctr(["tasks", "rm", "-f", id]);
    await s.ctr(["containers", "rm", id]);
    const missing = await s.ctr(["tasks", "kill", "nosuchcontainer"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found/);
  });
});
