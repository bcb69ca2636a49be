import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  cgroupsOf,
  Daemon,
  hasCtr,
  hasRuncShim,
  hasTsShim,
  isRoot,
  makeRootfs,
  mountsUnder,
  shimPidsUnder,
  teardown,
  tempDir,
  zombiesUnder,
} from "./tasks-support.js";

/** Many tasks: nothing leaks across run/rm cycles, parallel starts all run. */

const runtimes = [
  { name: "io.containerd.runc.v2", available: hasRuncShim },
  { name: "io.containerd.ts.v2", available: hasTsShim },
];

for (const rt of runtimes) {
  const skip = !isRoot || !hasCtr || !rt.available ? `needs root, ctr and ${rt.name}` : false;
  describe(`tasks at scale with ${rt.name}`, { skip }, () => {
    const ns = `tasks-scale-${rt.name.split(".")[2]}`;
    let dir = "";
    let rootfs = "";
    let d: Daemon | undefined;
    const ctr = (args: string[]) => d!.ctr(args, { ns });

    before(async () => {
      dir = tempDir("ctd-ts-e2e-");
      rootfs = makeRootfs(dir);
      d = new Daemon(dir);
      await d.start();
    });
    after(async () => {
      await teardown(d, dir, ns);
    });

    test("50 run --rm cycles leave no zombie, mount, cgroup, shim or bundle", async () => {
      for (let i = 0; i < 50; i++) {
        const r = await ctr([
          "run",
          "--rm",
          "--runtime",
          rt.name,
          "--rootfs",
          rootfs,
          `cycle-${i}`,
          "/bin/true",
        ]);
        assert.equal(r.code, 0, `cycle ${i}: ${r.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(zombiesUnder([d!.proc!.pid!, process.pid]), []);
      assert.deepEqual(mountsUnder(dir), []);
      assert.deepEqual(cgroupsOf(ns), []);
      assert.deepEqual(shimPidsUnder(d!.state), []);
      assert.equal((await ctr(["containers", "ls", "-q"])).stdout.trim(), "");
    });

    test("20 containers started in parallel all run", async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `par-${i}`);
      const runs = await Promise.all(
        ids.map((id) =>
          ctr(["run", "-d", "--runtime", rt.name, "--rootfs", rootfs, id, "/bin/sleep", "1000"]),
        ),
      );
      runs.forEach((r, i) => assert.equal(r.code, 0, `${ids[i]}: ${r.stderr}`));
      const ls = (await ctr(["tasks", "ls"])).stdout;
      for (const id of ids) assert.match(ls, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
      await Promise.all(ids.map((id) => ctr(["tasks", "kill", "-s", "SIGKILL", id])));
      for (let i = 0; i < 200; i++) {
        const now = (await ctr(["tasks", "ls"])).stdout;
        if ((now.match(/STOPPED/g) ?? []).length === ids.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const rms = await Promise.all(ids.map((id) => ctr(["tasks", "rm", id])));
      rms.forEach((r, i) => assert.equal(r.code, 0, `${ids[i]}: ${r.stderr}`));
      await Promise.all(ids.map((id) => ctr(["containers", "rm", id])));
      assert.equal((await ctr(["tasks", "ls", "-q"])).stdout.trim(), "");
      assert.deepEqual(shimPidsUnder(d!.state), []);
    });
  });
}
