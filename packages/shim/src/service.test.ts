import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import type { ForwardRequest } from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { EventPublisher, type Forwarder } from "./events/publisher.js";
import { EventSpool } from "./events/spool.js";
import type { OciRuntime } from "./runtime.js";
import { TaskService } from "./service.js";
import type { ShimSys } from "./sys.js";

class FakeRuntime implements Partial<OciRuntime> {
  calls: string[] = [];
  nextPid = 1000;
  onStart?: () => void;
  async create(_id: string, o: { pidFile: string }) {
    this.calls.push("create");
    writeFileSync(o.pidFile, String(this.nextPid++));
  }
  async start() {
    this.calls.push("start");
    this.onStart?.();
  }
  async restore(_id: string, o: { pidFile: string; imagePath: string; detach: boolean }) {
    this.calls.push(`restore ${o.imagePath}${o.detach ? " detach" : ""}`);
    writeFileSync(o.pidFile, String(this.nextPid++));
    return 0;
  }
  async exec(_id: string, _p: object, o: { pidFile: string }) {
    this.calls.push("exec");
    writeFileSync(o.pidFile, String(this.nextPid++));
  }
  async kill(_id: string, sig: number, o?: { all?: boolean }) {
    this.calls.push(`kill ${sig}${o?.all ? " all" : ""}`);
  }
  async delete() {
    this.calls.push("delete");
  }
  async pause() {
    this.calls.push("pause");
  }
  async resume() {
    this.calls.push("resume");
  }
}

class RecordingForwarder implements Forwarder {
  topics: string[] = [];
  async forward(r: ForwardRequest) {
    this.topics.push(r.envelope!.topic);
  }
  close() {}
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "shim-svc-"));
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ linux: { namespaces: [{ type: "pid" }] } }),
  );
  const runtime = new FakeRuntime();
  const fwd = new RecordingForwarder();
  const spool = new EventSpool(join(dir, "events.spool"));
  const publisher = new EventPublisher({ namespace: "default", spool, forwarder: fwd });
  const svc = new TaskService({
    namespace: "default",
    sys: { kill: () => undefined } as unknown as ShimSys,
    runtimeFactory: async () => runtime as unknown as OciRuntime,
    publisher,
    onShutdown: () => undefined,
  });
  const stdio = { stdin: "", stdout: "", stderr: "", terminal: false };
  const create = () =>
    svc.create({ id: "c1", bundle: dir, rootfs: [], stdio, options: undefined, checkpoint: "" });
  const cleanup = () => {
    publisher.close();
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, runtime, fwd, svc, create, stdio, cleanup, publisher };
}

const kindOfRejection = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e) => kindOf(e),
  );

test("create, start, exit, wait, delete: events in containerd's order; wait answers after /tasks/exit", async () => {
  const t = setup();
  try {
    const c = await t.create();
    assert.equal(c.init.pid, 1000);
    assert.equal(await kindOfRejection(t.create()), ErrorKind.AlreadyExists);
    await t.svc.start("c1", "");
    assert.equal(await kindOfRejection(t.svc.delete("c1", "")), ErrorKind.FailedPrecondition);
    const waiting = t.svc.wait("c1", "");
    t.svc.handleExit({ pid: 1000, status: 137, exitedAt: new Date() });
    const p = await waiting;
    assert.equal(p.exitStatus, 137);
    assert.deepEqual(t.fwd.topics, ["/tasks/create", "/tasks/start", "/tasks/exit"]);
    await t.svc.delete("c1", "");
    assert.equal(await t.publisher.flush(5000), true);
    assert.equal(t.fwd.topics.at(-1), "/tasks/delete");
    assert.equal(t.svc.containers.size, 0);
    assert.deepEqual(t.runtime.calls, ["create", "start", "delete"]);
  } finally {
    t.cleanup();
  }
});

test("an exit seen while Start runs is published after /tasks/start", async () => {
  const t = setup();
  try {
    await t.create();
    t.runtime.onStart = () => t.svc.handleExit({ pid: 1000, status: 0, exitedAt: new Date() });
    await t.svc.start("c1", "");
    const p = await t.svc.wait("c1", "");
    assert.equal(p.state, "stopped");
    assert.deepEqual(t.fwd.topics, ["/tasks/create", "/tasks/start", "/tasks/exit"]);
  } finally {
    t.cleanup();
  }
});

test("exec: duplicate id AlreadyExists, unknown id NotFound, early exit before the pid is known is kept", async () => {
  const t = setup();
  try {
    await t.create();
    await t.svc.start("c1", "");
    t.svc.exec("c1", "e1", t.stdio, { args: ["/bin/true"] });
    assert.throws(
      () => t.svc.exec("c1", "e1", t.stdio, {}),
      (e) => kindOf(e) === ErrorKind.AlreadyExists,
    );
    assert.equal(await kindOfRejection(t.svc.start("c1", "nope")), ErrorKind.NotFound);
    // the exec's process exits before runc exec returned and its pid file was read
    const execPid = t.runtime.nextPid;
    const origExec = t.runtime.exec.bind(t.runtime);
    t.runtime.exec = async (id, p, o) => {
      await origExec(id, p, o);
      t.svc.handleExit({ pid: execPid, status: 5, exitedAt: new Date() });
    };
    const e1 = await t.svc.start("c1", "e1");
    assert.equal(e1.pid, execPid);
    assert.equal((await t.svc.wait("c1", "e1")).exitStatus, 5);
    assert.deepEqual(t.fwd.topics.slice(-3), [
      "/tasks/exec-added",
      "/tasks/exec-started",
      "/tasks/exit",
    ]);
    await t.svc.delete("c1", "e1");
    assert.equal(await kindOfRejection(t.svc.wait("c1", "e1")), ErrorKind.NotFound);
  } finally {
    t.cleanup();
  }
});

test("pause/resume go through the table and emit events; kill of a deleted task is NotFound", async () => {
  const t = setup();
  try {
    await t.create();
    assert.equal(await kindOfRejection(t.svc.pause("c1")), ErrorKind.FailedPrecondition);
    await t.svc.start("c1", "");
    await t.svc.pause("c1");
    assert.equal(await kindOfRejection(t.svc.pause("c1")), ErrorKind.FailedPrecondition);
    await t.svc.resume("c1");
    await t.svc.kill("c1", "", 9, true);
    t.svc.handleExit({ pid: 1000, status: 137, exitedAt: new Date() });
    await t.svc.wait("c1", "");
    await t.svc.delete("c1", "");
    assert.equal(await kindOfRejection(t.svc.kill("c1", "", 9, false)), ErrorKind.NotFound);
    assert.ok(t.fwd.topics.includes("/tasks/paused") && t.fwd.topics.includes("/tasks/resumed"));
    assert.ok(t.runtime.calls.includes("kill 9 all"));
  } finally {
    t.cleanup();
  }
});

test("deleting a task that never started lets its waiters go", async () => {
  const t = setup();
  try {
    await t.create();
    const waiting = t.svc.wait("c1", "");
    await t.svc.delete("c1", "");
    await waiting;
    assert.equal(t.svc.containers.size, 0);
    assert.equal(await kindOfRejection(t.svc.wait("c1", "")), ErrorKind.NotFound);
  } finally {
    t.cleanup();
  }
});

test("a task created from a checkpoint runs nothing until Start restores it", async () => {
  const t = setup();
  try {
    const c = await t.svc.create({
      id: "c1",
      bundle: t.dir,
      rootfs: [],
      stdio: t.stdio,
      options: undefined,
      checkpoint: "/ckpt",
    });
    assert.equal(c.init.pid, 0);
    assert.deepEqual(t.runtime.calls, []);
    assert.throws(
      () => t.svc.exec("c1", "e1", t.stdio, {}),
      (e) => kindOf(e) === ErrorKind.FailedPrecondition,
    );
    const p = await t.svc.start("c1", "");
    assert.equal(p.pid, 1000);
    assert.equal(p.state, "running");
    assert.deepEqual(t.runtime.calls, ["restore /ckpt detach"]);
    assert.equal(await t.publisher.flush(5000), true);
    assert.deepEqual(t.fwd.topics, ["/tasks/create", "/tasks/start"]);
  } finally {
    t.cleanup();
  }
});
