/** The client against the real runc on a busybox bundle (root only). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { RuncClient } from "./runc-client.js";
import { buildBusyboxBundle } from "./fixtures/busybox-bundle.js";
import { becomeSubreaper, reap } from "./fixtures/subreaper.js";

const runcPath = (() => {
  const r = spawnSync("sh", ["-c", "command -v runc"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();
const skip = process.getuid?.() !== 0 ? "needs root" : !runcPath ? "runc not on PATH" : undefined;

/** Polls (bounded by attempts, not by time) until the container reaches `status`. */
async function waitForStatus(client: RuncClient, id: string, status: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await client.state(id)).status === status) return;
    await sleep(10);
  }
  assert.fail(`${id} never became ${status}`);
}

test(
  "real runc: create → created → start → running → exec → ps → pause/resume → stats → update → kill → delete",
  { skip },
  async () => {
    becomeSubreaper();
    const dir = mkdtempSync(join(tmpdir(), "runc-client-real-"));
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    buildBusyboxBundle(
      bundle,
      ["/bin/sh", "-c", "echo hello-from-container; exec sleep 600"],
      runcPath!,
    );
    const client = new RuncClient({
      binary: runcPath!,
      root: join(dir, "root"),
      log: join(bundle, "log.json"),
      logFormat: "json",
    });
    const id = `rc-test-${process.pid}`;
    const outPath = join(dir, "stdout");
    const out = openSync(outPath, "w");
    const pids: number[] = [];
    try {
      await client.create(id, {
        bundle,
        pidFile: join(bundle, "init.pid"),
        io: { stdout: out, stderr: out },
      });
      const created = await client.state(id);
      assert.equal(created.status, "created");
      assert.equal(created.id, id);
      assert.equal(created.bundle, bundle);
      assert.equal(Number(readFileSync(join(bundle, "init.pid"), "utf8")), created.pid);
      pids.push(created.pid);
      assert.deepEqual(
        (await client.list()).map((c) => c.id),
        [id],
      );

      await client.start(id);
      assert.equal((await client.state(id)).status, "running");

      await client.exec(
        id,
        {
          args: ["/bin/sleep", "600"],
          cwd: "/",
          env: ["PATH=/bin"],
          user: { uid: 0, gid: 0 },
          terminal: false,
        },
        { pidFile: join(bundle, "e1.pid"), detach: true },
      );
      const execPid = Number(readFileSync(join(bundle, "e1.pid"), "utf8"));
      pids.push(execPid);
      const ps = await client.ps(id);
      assert.ok(ps.includes(created.pid) && ps.includes(execPid), `ps: ${ps}`);

      await client.pause(id);
      assert.equal((await client.state(id)).status, "paused");
      await client.resume(id);
      assert.equal((await client.state(id)).status, "running");

      const stats = (await client.stats(id)) as { pids?: { current?: number }; memory?: object };
      assert.ok(stats.memory, "stats carry memory");
      assert.equal(stats.pids?.current, 2);

      await client.update(id, { memory: { limit: 64 * 1024 * 1024 } });

      // Output through the fd we gave: the container wrote to our file.
      for (let i = 0; i < 500 && !readFileSync(outPath, "utf8").includes("hello"); i++)
        await sleep(10);
      assert.match(readFileSync(outPath, "utf8"), /hello-from-container/);

      await client.kill(id, 9, { all: true });
      // The processes are our orphans now (we are their subreaper): runc calls the container
      // stopped only once they are reaped.
      await Promise.all(pids.splice(0).map(reap));
      await waitForStatus(client, id, "stopped");
      await assert.rejects(client.kill(id, 9), (e) => kindOf(e) === ErrorKind.NotFound);
      await client.delete(id);
      assert.deepEqual(await client.list(), []);
      await assert.rejects(
        client.state(id),
        (e) => kindOf(e) === ErrorKind.NotFound && /does not exist/.test((e as Error).message),
      );
      await assert.rejects(client.kill(id, 15), (e) => kindOf(e) === ErrorKind.NotFound);
    } finally {
      closeSync(out);
      await client.delete(id, { force: true }).catch(() => {});
      await Promise.all(pids.map(reap));
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "real runc: a spec runc rejects fails create with runc's own message and leaves nothing",
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "runc-client-bad-"));
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    buildBusyboxBundle(bundle, ["/bin/does-not-exist"], runcPath!);
    const client = new RuncClient({
      binary: runcPath!,
      root: join(dir, "root"),
      log: join(bundle, "log.json"),
      logFormat: "json",
    });
    const id = `rc-bad-${process.pid}`;
    try {
      await assert.rejects(
        client.create(id, { bundle, pidFile: join(bundle, "init.pid") }),
        (e: Error) => {
          assert.match(e.message, /does-not-exist/);
          return true;
        },
      );
      assert.deepEqual(await client.list(), []);
    } finally {
      await client.delete(id, { force: true }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
