import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Daemon,
  hasCtr,
  hasRuncShim,
  hasTsShim,
  isRoot,
  makeRootfs,
  teardown,
  tempDir,
} from "./tasks-support.js";

/** The daemon is disposable, the shim is not: SIGKILL the daemon under a running task. */

const runtimes = [
  { name: "io.containerd.runc.v2", available: hasRuncShim },
  { name: "io.containerd.ts.v2", available: hasTsShim },
];

for (const rt of runtimes) {
  const skip = !isRoot || !hasCtr || !rt.available ? `needs root, ctr and ${rt.name}` : false;
  describe(`daemon SIGKILL + restart with ${rt.name}`, { skip }, () => {
    const ns = `tasks-restart-${rt.name.split(".")[2]}`;
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

    test("a running task survives, can be killed and deleted; exit statuses are kept", async () => {
      const run = (id: string, argv: string[]) =>
        ctr(["run", "-d", "--runtime", rt.name, "--rootfs", rootfs, id, ...argv]);
      assert.equal((await run("survivor", ["/bin/sleep", "1000"])).code, 0);
      assert.equal((await run("quick", ["/bin/sh", "-c", "exit 3"])).code, 0);
      for (
        let i = 0;
        i < 100 && !/quick\s+\d+\s+STOPPED/.test((await ctr(["tasks", "ls"])).stdout);
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }

      await d!.stop("SIGKILL");
      await d!.start();

      const ls = (await ctr(["tasks", "ls"])).stdout;
      assert.match(ls, /survivor\s+\d+\s+RUNNING/);
      assert.match(ls, /quick\s+\d+\s+STOPPED/);

      assert.equal((await ctr(["tasks", "kill", "-s", "SIGKILL", "survivor"])).code, 0);
      let after = "";
      for (let i = 0; i < 100; i++) {
        after = (await ctr(["tasks", "ls"])).stdout;
        if (/survivor\s+\d+\s+STOPPED/.test(after)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(after, /survivor\s+\d+\s+STOPPED/);
      const rm = await ctr(["tasks", "rm", "survivor"]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stderr, /137/);
      const rmQuick = await ctr(["tasks", "rm", "quick"]);
      assert.equal(rmQuick.code, 0, rmQuick.stderr);
      assert.match(rmQuick.stderr, /exit code 3/);
      for (const id of ["survivor", "quick"])
        assert.equal((await ctr(["containers", "rm", id])).code, 0);
      assert.equal((await ctr(["tasks", "ls", "-q"])).stdout.trim(), "");
    });

    test("a clean stop (SIGTERM) leaves tasks running; the next daemon picks them up", async () => {
      const id = "calm";
      const started = await ctr([
        "run",
        "-d",
        "--runtime",
        rt.name,
        "--rootfs",
        rootfs,
        id,
        "/bin/sleep",
        "1000",
      ]);
      assert.equal(started.code, 0, started.stderr);
      await d!.stop("SIGTERM");
      await d!.start();
      assert.match((await ctr(["tasks", "ls"])).stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
      const rm = await ctr(["tasks", "rm", "-f", id]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await ctr(["containers", "rm", id])).code, 0);
    });
  });
}
