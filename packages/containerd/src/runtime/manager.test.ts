import { test } from "node:test";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Any } from "@bufbuild/protobuf/wkt";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import { EventsTtrpcServer, type ForwardedEnvelope } from "../ttrpc-events/index.js";
import { RuntimeManager } from "./manager.js";
import { resolveShimBinary } from "./binary.js";
import { recoverTasks } from "./recovery.js";
import { isOwnShim } from "./fast-start.js";
import { shimPidsInBundle } from "./stray-shim.js";
import { socketAddress, socketPath } from "@containerd-ts/shim/paths.js";
import { busyboxSpec, makeBusyboxRootfs, removeCgroupParent } from "./test-support.js";
import { mountsUnder } from "./mounts.js";

/** per process: two runs of these tests at once must not share runc state or cgroups */
const NS = `rt-test-${process.pid}`;

const canRun =
  process.getuid?.() === 0 &&
  (() => {
    try {
      resolveShimBinary("io.containerd.runc.v2");
      return true;
    } catch {
      return false;
    }
  })();

interface Harness {
  manager: RuntimeManager;
  events: ForwardedEnvelope[];
  published: { ns: string; topic: string; event: Any }[];
  dir: string;
  rootfs: string;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-rt-"));
  const rootfs = makeBusyboxRootfs(dir);
  const events: ForwardedEnvelope[] = [];
  const published: Harness["published"] = [];
  const address = join(dir, "containerd.sock");
  const sink = {
    publish: async (ns: string, topic: string, event: Any) =>
      void published.push({ ns, topic, event }),
    forward: async (env: ForwardedEnvelope) => void events.push(env),
  };
  const server = new EventsTtrpcServer(sink);
  await server.listen(address + ".ttrpc");
  const manager = new RuntimeManager({
    root: join(dir, "root"),
    state: join(dir, "state"),
    address,
    events: sink,
    shimLog: () => {},
  });
  return {
    manager,
    events,
    published,
    dir,
    rootfs,
    async close() {
      manager.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
      removeCgroupParent(NS);
      rmSync(`/run/containerd/runc/${NS}`, { recursive: true, force: true });
    },
  };
}

function spec(rootfs: string, id: string, args: string[]): Uint8Array {
  return Buffer.from(JSON.stringify(busyboxSpec(rootfs, args, { id, namespace: NS })));
}

test("real containerd-shim-runc-v2: create, start, wait, delete", { skip: !canRun }, async () => {
  const h = await harness();
  try {
    const out = join(h.dir, "out.txt");
    const { pid } = await h.manager.create(NS, "echo1", {
      runtime: "io.containerd.runc.v2",
      spec: spec(h.rootfs, "echo1", ["/bin/echo", "hi"]),
      stdout: "file://" + out,
      stderr: "file://" + out,
    });
    assert.ok(pid > 0);
    const task = h.manager.mustGet(NS, "echo1");
    const bundle = task.bundle.path;
    assert.ok(existsSync(join(bundle, "config.json")));
    assert.ok(existsSync(join(bundle, "shim-binary-path")));
    const waiting = task.wait("");
    await task.start();
    const exit = await waiting;
    assert.equal(exit.exitStatus, 0);
    assert.equal((await task.state()).status, Status.STOPPED);
    const del = await h.manager.delete(NS, "echo1");
    assert.equal(del.exitStatus, 0);
    assert.equal(readFileSync(out, "utf8"), "hi\n");
    assert.ok(!existsSync(bundle));
    assert.equal(h.manager.get(NS, "echo1"), undefined);
    const topics = h.events.map((e) => e.topic);
    for (const t of ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]) {
      assert.ok(topics.includes(t), `${t} in ${topics.join(",")}`);
    }
  } finally {
    await h.close();
  }
});

test(
  "a spec the runtime rejects: error with runtime's message, nothing left",
  { skip: !canRun },
  async () => {
    const h = await harness();
    try {
      const err = await h.manager
        .create(NS, "bad1", {
          runtime: "io.containerd.runc.v2",
          spec: spec(h.rootfs, "bad1", ["/bin/does-not-exist"]),
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof Error, "create must fail");
      assert.match((err as Error).message, /does-not-exist|no such file/i);
      assert.equal(h.manager.get(NS, "bad1"), undefined);
      assert.ok(!existsSync(join(h.manager.roots.state, NS, "bad1")));
      assert.ok(!existsSync(join(h.manager.roots.root, NS, "bad1")));
      assert.deepEqual(await mountsUnder(h.dir), []);
    } finally {
      await h.close();
    }
  },
);

test("second create of the same task is AlreadyExists", { skip: !canRun }, async () => {
  const h = await harness();
  try {
    await h.manager.create(NS, "dup1", {
      runtime: "io.containerd.runc.v2",
      spec: spec(h.rootfs, "dup1", ["/bin/sleep", "30"]),
    });
    const err = await h.manager
      .create(NS, "dup1", {
        runtime: "io.containerd.runc.v2",
        spec: spec(h.rootfs, "dup1", ["/bin/true"]),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.equal(kindOf(err), ErrorKind.AlreadyExists);
    await h.manager.delete(NS, "dup1");
  } finally {
    await h.close();
  }
});

test(
  "restart recovery: live shim reconnects, dead shim is cleaned up with exit events",
  { skip: !canRun },
  async () => {
    const h = await harness();
    const mk = () =>
      new RuntimeManager({
        root: join(h.dir, "root"),
        state: join(h.dir, "state"),
        address: join(h.dir, "containerd.sock"),
        events: {
          publish: async (ns, topic, event) => void h.published.push({ ns, topic, event }),
        },
        shimLog: () => {},
      });
    let second: RuntimeManager | undefined;
    try {
      for (const id of ["live1", "dead1"]) {
        await h.manager.create(NS, id, {
          runtime: "io.containerd.runc.v2",
          spec: spec(h.rootfs, id, ["/bin/sleep", "1000"]),
        });
        await h.manager.mustGet(NS, id).start();
      }
      const { shimPid } = await h.manager.mustGet(NS, "dead1").connectTask();
      // the daemon "dies": connections drop, shims stay
      h.manager.close();
      process.kill(shimPid, "SIGKILL");
      second = mk();
      const report = await recoverTasks(second, { concurrency: 2, deadlineMs: 20_000 });
      assert.deepEqual(report.reconnected, [`${NS}/live1`]);
      assert.deepEqual(report.cleaned, [`${NS}/dead1`]);
      assert.equal(second.get(NS, "dead1"), undefined);
      assert.ok(!existsSync(join(second.roots.state, NS, "dead1")));
      const topics = h.published.filter((p) => p.ns === NS).map((p) => p.topic);
      assert.deepEqual(topics, ["/tasks/exit", "/tasks/delete"]);

      const live = second.mustGet(NS, "live1");
      assert.equal((await live.state()).status, Status.RUNNING);
      const waiting = live.wait("");
      await live.kill("", 9, false);
      assert.equal((await waiting).exitStatus, 137);
      await second.delete(NS, "live1");
      assert.ok(!existsSync(join(second.roots.state, NS, "live1")));
    } finally {
      second?.close();
      await h.close();
    }
  },
);

test(
  "a shim that dies under a running daemon is cleaned up with exit events",
  { skip: !canRun },
  async () => {
    const h = await harness();
    try {
      await h.manager.create(NS, "crash1", {
        runtime: "io.containerd.runc.v2",
        spec: spec(h.rootfs, "crash1", ["/bin/sleep", "1000"]),
      });
      const task = h.manager.mustGet(NS, "crash1");
      await task.start();
      const { shimPid } = await task.connectTask();
      process.kill(shimPid, "SIGKILL");
      for (let i = 0; i < 800 && h.published.length < 2; i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(
        h.published.map((p) => p.topic),
        ["/tasks/exit", "/tasks/delete"],
      );
      assert.equal(h.manager.get(NS, "crash1"), undefined);
      assert.ok(!existsSync(task.bundle.path));
    } finally {
      await h.close();
    }
  },
);

const ownShim = (() => {
  try {
    return isOwnShim(resolveShimBinary("io.containerd.ts.v2"));
  } catch {
    return false;
  }
})();

test(
  "our shim starts on the fast path: daemon-made socket as fd 3, same address file",
  { skip: !canRun || !ownShim },
  async () => {
    const h = await harness();
    try {
      const out = join(h.dir, "out-ts.txt");
      await h.manager.create(NS, "fast1", {
        runtime: "io.containerd.ts.v2",
        spec: spec(h.rootfs, "fast1", ["/bin/echo", "fast"]),
        stdout: "file://" + out,
      });
      const task = h.manager.mustGet(NS, "fast1");
      const address = readFileSync(join(task.bundle.path, "address"), "utf8");
      assert.equal(address, socketAddress(join(h.dir, "containerd.sock"), NS, "fast1"));
      const { shimPid } = await task.connectTask();
      assert.equal(readlinkSync(`/proc/${shimPid}/cwd`), task.bundle.path);
      const waiting = task.wait("");
      await task.start();
      assert.equal((await waiting).exitStatus, 0);
      await h.manager.delete(NS, "fast1");
      assert.equal(readFileSync(out, "utf8"), "fast\n");
      assert.ok(!existsSync(socketPath(address)));
    } finally {
      await h.close();
    }
  },
);

test(
  "deleting a task whose shim died: one cleanup, exit events once; concurrent deletes agree",
  { skip: !canRun },
  async () => {
    const h = await harness();
    try {
      await h.manager.create(NS, "gone1", {
        runtime: "io.containerd.runc.v2",
        spec: spec(h.rootfs, "gone1", ["/bin/sleep", "1000"]),
      });
      const task = h.manager.mustGet(NS, "gone1");
      await task.start();
      const { shimPid } = await task.connectTask();
      process.kill(shimPid, "SIGKILL");
      const [a, b] = await Promise.all([
        h.manager.delete(NS, "gone1"),
        h.manager.delete(NS, "gone1"),
      ]);
      assert.deepEqual(a, b);
      assert.equal(a.exitStatus, 137);
      assert.deepEqual(
        h.published.map((p) => p.topic),
        ["/tasks/exit", "/tasks/delete"],
      );
      assert.equal(h.manager.get(NS, "gone1"), undefined);
      assert.ok(!existsSync(task.bundle.path));
    } finally {
      await h.close();
    }
  },
);

test(
  "a Create that fails after runc created the container leaves no container behind",
  { skip: !canRun },
  async () => {
    const h = await harness();
    try {
      // the runc shim opens stdin after `runc create` and waits for a missing FIFO until the
      // Create deadline: the shim is wedged and the container created
      const manager = new RuntimeManager({
        root: join(h.dir, "root"),
        state: join(h.dir, "state"),
        address: join(h.dir, "containerd.sock"),
        events: { publish: async () => {} },
        shimLog: () => {},
        shimDeadlines: { create: 1500, delete: 1000, shutdown: 500 },
      });
      const err = await manager
        .create(NS, "late1", {
          runtime: "io.containerd.runc.v2",
          spec: spec(h.rootfs, "late1", ["/bin/sleep", "1000"]),
          stdin: join(h.dir, "no-such-fifo"),
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof Error, "create must fail");
      assert.equal(manager.get(NS, "late1"), undefined);
      const bundle = join(manager.roots.state, NS, "late1");
      assert.deepEqual(await shimPidsInBundle(bundle, "late1"), []);
      // the runc shim names its socket as ours does: the killed shim's socket is removed too
      const socket = socketAddress(join(h.dir, "containerd.sock"), NS, "late1");
      assert.ok(!existsSync(socketPath(socket)));
      const list = execFileSync("runc", ["--root", `/run/containerd/runc/${NS}`, "list", "-q"], {
        encoding: "utf8",
      });
      assert.doesNotMatch(list, /late1/);
      assert.ok(!existsSync(join(h.manager.roots.state, NS, "late1")));
      assert.deepEqual(await mountsUnder(h.dir), []);
    } finally {
      await h.close();
    }
  },
);
