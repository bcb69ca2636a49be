import { test } from "node:test";
import assert from "node:assert/strict";
import { describeEachRuntime, tasksLsUntil } from "./tasks-support.js";

/** The daemon is disposable, the shim is not: SIGKILL the daemon under a running task. */

describeEachRuntime("daemon SIGKILL + restart", "tasks-restart", (s) => {
  test("a running task survives, can be killed and deleted; exit statuses are kept", async () => {
    const run = (id: string, argv: string[]) => s.run(id, argv, { flags: ["-d"] });
    assert.equal((await run("survivor", ["/bin/sleep", "1000"])).code, 0);
    assert.equal((await run("quick", ["/bin/sh", "-c", "exit 3"])).code, 0);
    await tasksLsUntil(s, /quick\s+\d+\s+STOPPED/);

    await s.daemon.stop("SIGKILL");
    await s.daemon.start();

    const ls = (await s.ctr(["tasks", "ls"])).stdout;
    assert.match(ls, /survivor\s+\d+\s+RUNNING/);
    assert.match(ls, /quick\s+\d+\s+STOPPED/);

    assert.equal((await s.ctr(["tasks", "kill", "-s", "SIGKILL", "survivor"])).code, 0);
    const after = await tasksLsUntil(s, /survivor\s+\d+\s+STOPPED/);
    assert.match(after, /survivor\s+\d+\s+STOPPED/);
    const rm = await s.ctr(["tasks", "rm", "survivor"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stderr, /137/);
    const rmQuick = await s.ctr(["tasks", "rm", "quick"]);
    assert.equal(rmQuick.code, 0, rmQuick.stderr);
    assert.match(rmQuick.stderr, /exit code 3/);
    for (const id of ["survivor", "quick"])
      assert.equal((await s.ctr(["containers", "rm", id])).code, 0);
    assert.equal((await s.ctr(["tasks", "ls", "-q"])).stdout.trim(), "");
  });

  test("a clean stop (SIGTERM) leaves tasks running; the next daemon picks them up", async () => {
    const id = "calm";
    const started = await s.ctr([
      "run",
      "-d",
      "--runtime",
      s.runtime,
      "--rootfs",
      s.rootfs,
      id,
      "/bin/sleep",
      "1000",
    ]);
    assert.equal(started.code, 0, started.stderr);
    await s.daemon.stop("SIGTERM");
    await s.daemon.start();
    assert.match((await s.ctr(["tasks", "ls"])).stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    const rm = await s.ctr(["tasks", "rm", "-f", id]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await s.ctr(["containers", "rm", id])).code, 0);
  });
});
