import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cgroupsOf,
  describeEachRuntime,
  tasksLsUntil,
  mountsUnder,
  shimPidsUnder,
  zombiesUnder,
} from "./tasks-support.js";

/** Many tasks: nothing leaks across run/rm cycles, parallel starts all run. */

describeEachRuntime("tasks at scale", "tasks-scale", (s) => {
  test("50 run --rm cycles leave no zombie, mount, cgroup, shim or bundle", async () => {
    for (let i = 0; i < 50; i++) {
      const r = await s.ctr([
        "run",
        "--rm",
        "--runtime",
        s.runtime,
        "--rootfs",
        s.rootfs,
        `cycle-${i}`,
        "/bin/true",
      ]);
      assert.equal(r.code, 0, `cycle ${i}: ${r.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(zombiesUnder([s.daemon.proc!.pid!, process.pid]), []);
    assert.deepEqual(mountsUnder(s.dir), []);
    assert.deepEqual(cgroupsOf(s.ns), []);
    assert.deepEqual(shimPidsUnder(s.daemon.state), []);
    assert.equal((await s.ctr(["containers", "ls", "-q"])).stdout.trim(), "");
  });

  test("20 containers started in parallel all run", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `par-${i}`);
    const runs = await Promise.all(
      ids.map((id) =>
        s.ctr([
          "run",
          "-d",
          "--runtime",
          s.runtime,
          "--rootfs",
          s.rootfs,
          id,
          "/bin/sleep",
          "1000",
        ]),
      ),
    );
    runs.forEach((r, i) => assert.equal(r.code, 0, `${ids[i]}: ${r.stderr}`));
    const ls = (await s.ctr(["tasks", "ls"])).stdout;
    for (const id of ids) assert.match(ls, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    await Promise.all(ids.map((id) => s.ctr(["tasks", "kill", "-s", "SIGKILL", id])));
    await tasksLsUntil(s, new RegExp(`(STOPPED[^]*){${ids.length}}`));
    const rms = await Promise.all(ids.map((id) => s.ctr(["tasks", "rm", id])));
    rms.forEach((r, i) => assert.equal(r.code, 0, `${ids[i]}: ${r.stderr}`));
    await Promise.all(ids.map((id) => s.ctr(["containers", "rm", id])));
    assert.equal((await s.ctr(["tasks", "ls", "-q"])).stdout.trim(), "");
    assert.deepEqual(shimPidsUnder(s.daemon.state), []);
  });
});
