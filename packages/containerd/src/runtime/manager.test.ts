import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Any } from "@bufbuild/protobuf/wkt";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import { EventsTtrpcServer, type ForwardedEnvelope } from "../ttrpc-events/index.js";
import { RuntimeManager } from "./manager.js";
import { resolveShimBinary } from "./binary.js";
import { busyboxSpec, makeBusyboxRootfs, removeCgroupParent } from "./test-support.js";
import { mountsUnder } from "./mounts.js";

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
      removeCgroupParent("rt-test");
    },
  };
}

function spec(rootfs: string, id: string, args: string[]): Uint8Array {
  return Buffer.from(JSON.stringify(busyboxSpec(rootfs, args, { id, namespace: "rt-test" })));
}

test("real containerd-shim-runc-v2: create, start, wait, delete", { skip: !canRun }, async () => {
  const h = await harness();
  try {
    const out = join(h.dir, "out.txt");
    const { pid } = await h.manager.create("rt-test", "echo1", {
      runtime: "io.containerd.runc.v2",
      spec: spec(h.rootfs, "echo1", ["/bin/echo", "hi"]),
      stdout: "file://" + out,
      stderr: "file://" + out,
    });
    assert.ok(pid > 0);
    const task = h.manager.mustGet("rt-test", "echo1");
    const bundle = task.bundle.path;
    assert.ok(existsSync(join(bundle, "config.json")));
    assert.ok(existsSync(join(bundle, "shim-binary-path")));
    const waiting = task.wait("");
    await task.start();
    const exit = await waiting;
    assert.equal(exit.exitStatus, 0);
    assert.equal((await task.state()).status, Status.STOPPED);
    const del = await h.manager.delete("rt-test", "echo1");
    assert.equal(del.exitStatus, 0);
    assert.equal(readFileSync(out, "utf8"), "hi\n");
    assert.ok(!existsSync(bundle));
    assert.equal(h.manager.get("rt-test", "echo1"), undefined);
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
        .create("rt-test", "bad1", {
          runtime: "io.containerd.runc.v2",
          spec: spec(h.rootfs, "bad1", ["/bin/does-not-exist"]),
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof Error, "create must fail");
      assert.match((err as Error).message, /does-not-exist|no such file/i);
      assert.equal(h.manager.get("rt-test", "bad1"), undefined);
      assert.ok(!existsSync(join(h.manager.roots.state, "rt-test", "bad1")));
      assert.ok(!existsSync(join(h.manager.roots.root, "rt-test", "bad1")));
      assert.deepEqual(await mountsUnder(h.dir), []);
    } finally {
      await h.close();
    }
  },
);

test("second create of the same task is AlreadyExists", { skip: !canRun }, async () => {
  const h = await harness();
  try {
    await h.manager.create("rt-test", "dup1", {
      runtime: "io.containerd.runc.v2",
      spec: spec(h.rootfs, "dup1", ["/bin/sleep", "30"]),
    });
    const err = await h.manager
      .create("rt-test", "dup1", {
        runtime: "io.containerd.runc.v2",
        spec: spec(h.rootfs, "dup1", ["/bin/true"]),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.equal(kindOf(err), ErrorKind.AlreadyExists);
    await h.manager.delete("rt-test", "dup1");
  } finally {
    await h.close();
  }
});
