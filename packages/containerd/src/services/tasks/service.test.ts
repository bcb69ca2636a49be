import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { ContainerdError, ErrorKind, errAlreadyExists, errNotFound } from "@containerd-ts/errdefs";
import {
  CheckpointOptionsSchema,
  OptionsSchema,
} from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import {
  CheckpointTaskRequestSchema,
  CreateTaskRequestSchema,
  ExecProcessRequestSchema,
} from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import {
  DeleteResponseSchema,
  PidsResponseSchema,
  StateResponseSchema,
  WaitResponseSchema,
} from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import type { CreateTaskOptions, TaskExitInfo } from "../../runtime/manager.js";
import { ZERO_TIME_SECONDS } from "../../runtime/events.js";
import { contentFixture } from "../content/test-support.js";
import { sha256Digest } from "../content/digest.js";
import { readTar } from "../diff/tar.js";
import {
  MEDIA_TYPE_CHECKPOINT,
  MEDIA_TYPE_CHECKPOINT_CONFIG,
  TaskService,
  type CheckpointContent,
  type CheckpointStorage,
  type TaskContainer,
  type TaskHandle,
  type TaskRuntime,
} from "./service.js";

/** An in-memory task: records calls, answers from its fields. */
class FakeTask implements TaskHandle {
  status = Status.CREATED;
  calls: string[] = [];
  execs = new Set<string>();
  statsError: unknown;
  constructor(
    readonly namespace: string,
    readonly id: string,
  ) {}
  async start(execId = "") {
    this.calls.push(`start:${execId}`);
    this.status = Status.RUNNING;
    return 42;
  }
  async state(execId = "") {
    if (execId && !this.execs.has(execId)) throw errNotFound(`process ${execId} not found`);
    return create(StateResponseSchema, { id: this.id, pid: 42, status: this.status, execId });
  }
  async delete(execId = "") {
    this.calls.push(`delete:${execId}`);
    this.execs.delete(execId);
    return create(DeleteResponseSchema, { pid: 43, exitStatus: 3 });
  }
  async kill(execId: string, signal: number, all: boolean) {
    this.calls.push(`kill:${execId}:${signal}:${all}`);
  }
  async exec(req: { execId?: string }) {
    if (this.execs.has(req.execId ?? ""))
      throw errAlreadyExists(`id ${req.execId}: already exists`);
    this.execs.add(req.execId ?? "");
  }
  async resizePty() {}
  async closeIO(execId: string) {
    this.calls.push(`closeIO:${execId}`);
  }
  async pids() {
    return create(PidsResponseSchema, { processes: [{ pid: 42 }] });
  }
  async pause() {
    this.status = Status.PAUSED;
  }
  async resume() {
    this.status = Status.RUNNING;
  }
  /** files a checkpoint writes into its image dir; an Error fails it after writing them */
  dump: Record<string, string> = {};
  dumpError: Error | undefined;
  async checkpoint(path: string) {
    this.calls.push(`checkpoint:${path}`);
    for (const [name, data] of Object.entries(this.dump)) writeFileSync(join(path, name), data);
    if (this.dumpError) throw this.dumpError;
  }
  async update() {}
  async stats(): Promise<Any | undefined> {
    if (this.statsError) throw this.statsError;
    return create(AnySchema, {
      typeUrl: "io.containerd.cgroups.v1.Metrics",
      value: new Uint8Array(),
    });
  }
  async wait() {
    return create(WaitResponseSchema, { exitStatus: 7 });
  }
}

class FakeRuntime implements TaskRuntime {
  tasks = new Map<string, FakeTask>();
  created: CreateTaskOptions[] = [];
  async create(ns: string, id: string, o: CreateTaskOptions) {
    if (this.tasks.has(`${ns}/${id}`)) throw errAlreadyExists(`task ${id}: already exists`);
    this.created.push(o);
    this.tasks.set(`${ns}/${id}`, new FakeTask(ns, id));
    return { pid: 42 };
  }
  mustGet(ns: string, id: string) {
    const t = this.tasks.get(`${ns}/${id}`);
    if (!t) throw errNotFound(`task ${id} not found`);
    return t;
  }
  list(ns: string) {
    return [...this.tasks.values()].filter((t) => t.namespace === ns);
  }
  async delete(ns: string, id: string): Promise<TaskExitInfo> {
    this.mustGet(ns, id);
    this.tasks.delete(`${ns}/${id}`);
    return {
      pid: 42,
      exitStatus: 0,
      exitedAt: { $typeName: "google.protobuf.Timestamp", seconds: 1n, nanos: 0 },
    };
  }
}

const specAny = create(AnySchema, {
  typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
  value: Buffer.from('{"ociVersion":"1.0.2"}'),
});

function setup(checkpoints?: CheckpointStorage) {
  const containers = new Map<string, TaskContainer>([
    ["ns/c1", { id: "c1", runtime: { name: "io.containerd.runc.v2" }, spec: specAny }],
    ["ns/c2", { id: "c2", runtime: { name: "io.containerd.runc.v2" }, spec: specAny }],
    ["ns/nospec", { id: "nospec", runtime: { name: "io.containerd.runc.v2" } }],
  ]);
  const runtime = new FakeRuntime();
  const svc = new TaskService(
    { get: (ns, id) => containers.get(`${ns}/${id}`) },
    runtime,
    checkpoints,
  );
  return { svc, runtime };
}

async function errorOf(p: Promise<unknown>): Promise<ContainerdError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ContainerdError, String(e));
    return e;
  }
  throw new Error("expected an error");
}

const createReq = (id: string, init: object = {}) =>
  create(CreateTaskRequestSchema, { containerId: id, ...init });

test("unknown container and missing task are NotFound with containerd's messages", async () => {
  const { svc } = setup();
  const e1 = await errorOf(svc.get("ns", "nope", ""));
  assert.equal(e1.kind, ErrorKind.NotFound);
  assert.equal(e1.message, 'container "nope" in namespace "ns": not found');
  const e2 = await errorOf(svc.get("ns", "c1", ""));
  assert.equal(e2.kind, ErrorKind.NotFound);
  assert.equal(e2.message, "task c1 not found");
  // an id no container can have is not found either, and never reaches a lookup (containerd)
  const e3 = await errorOf(svc.get("ns", "../x", ""));
  assert.equal(e3.kind, ErrorKind.NotFound);
  assert.equal(e3.message, 'container "../x" in namespace "ns": not found');
});

test("create: spec bytes, runtime name or runtime_path, restore path from runc options", async () => {
  const { svc, runtime } = setup();
  const options = create(AnySchema, {
    typeUrl: "containerd.runc.v1.Options",
    value: toBinary(OptionsSchema, create(OptionsSchema, { criuImagePath: "/cp" })),
  });
  assert.deepEqual(await svc.create("ns", createReq("c1", { stdout: "/f", options })), {
    containerId: "c1",
    pid: 42,
  });
  await svc.create("ns", createReq("c2", { runtimePath: "/opt/shim" }));
  assert.equal(runtime.created[0]!.runtime, "io.containerd.runc.v2");
  assert.equal(runtime.created[0]!.checkpoint, "/cp");
  assert.equal(runtime.created[0]!.stdout, "/f");
  assert.deepEqual(Buffer.from(runtime.created[0]!.spec), Buffer.from(specAny.value));
  assert.equal(runtime.created[1]!.runtime, "/opt/shim");
  assert.equal((await errorOf(svc.create("ns", createReq("c1")))).kind, ErrorKind.AlreadyExists);
  assert.equal(
    (await errorOf(svc.create("ns", createReq("nospec")))).kind,
    ErrorKind.InvalidArgument,
  );
  assert.equal(
    (
      await errorOf(
        svc.create(
          "ns",
          createReq("c2", { checkpoint: { mediaType: "x", digest: "d", size: 1n } }),
        ),
      )
    ).kind,
    ErrorKind.Unknown,
  );
});

test("delete refuses running and paused tasks with containerd's message", async () => {
  const { svc, runtime } = setup();
  await svc.create("ns", createReq("c1"));
  await svc.start("ns", "c1", "");
  const running = await errorOf(svc.delete("ns", "c1"));
  assert.equal(running.kind, ErrorKind.FailedPrecondition);
  assert.equal(
    running.message,
    "task must be stopped before deletion: running: failed precondition",
  );
  await svc.pause("ns", "c1");
  assert.match((await errorOf(svc.delete("ns", "c1"))).message, /: paused: failed precondition$/);
  runtime.mustGet("ns", "c1").status = Status.STOPPED;
  assert.equal((await svc.delete("ns", "c1")).pid, 42);
  assert.equal((await errorOf(svc.get("ns", "c1", ""))).message, "task c1 not found");
});

test("get/list report Go's zero time for a process that has not exited", async () => {
  const { svc } = setup();
  await svc.create("ns", createReq("c1"));
  const p = await svc.get("ns", "c1", "");
  assert.equal(p.status, Status.CREATED);
  assert.equal(p.exitedAt?.seconds, ZERO_TIME_SECONDS);
  assert.deepEqual(
    (await svc.list("ns")).map((t) => t.id),
    ["c1"],
  );
  assert.deepEqual(await svc.list("other"), []);
  const w = await svc.wait("ns", "c1", "");
  assert.equal(w.exitStatus, 7);
  assert.equal(w.exitedAt.seconds, ZERO_TIME_SECONDS);
});

test("exec: empty and duplicate ids; process calls carry the exec id", async () => {
  const { svc, runtime } = setup();
  await svc.create("ns", createReq("c1"));
  const exec = (execId: string) => create(ExecProcessRequestSchema, { containerId: "c1", execId });
  assert.equal((await errorOf(svc.exec("ns", exec("")))).kind, ErrorKind.InvalidArgument);
  await svc.exec("ns", exec("e1"));
  assert.equal((await errorOf(svc.exec("ns", exec("e1")))).kind, ErrorKind.AlreadyExists);
  assert.equal((await svc.get("ns", "c1", "e1")).id, "e1");
  await svc.start("ns", "c1", "e1");
  await svc.kill("ns", "c1", "e1", 15, true);
  await svc.kill("ns", "c1", "", 9, true);
  await svc.closeIO("ns", "c1", "e1", true);
  await svc.closeIO("ns", "c1", "e1", false);
  const d = await svc.deleteProcess("ns", "c1", "e1");
  assert.equal(d.id, "e1");
  assert.equal(d.exitStatus, 3);
  // `all` is an init-process notion: never sent for an exec
  assert.deepEqual(runtime.mustGet("ns", "c1").calls, [
    "start:e1",
    "kill:e1:15:false",
    "kill::9:true",
    "closeIO:e1",
    "delete:e1",
  ]);
  assert.equal((await errorOf(svc.get("ns", "c1", "e1"))).kind, ErrorKind.NotFound);
});

test("metrics: `id==` filters, a failing task is skipped, bad filters are Unknown (containerd)", async () => {
  const { svc, runtime } = setup();
  await svc.create("ns", createReq("c1"));
  await svc.create("ns", createReq("c2"));
  assert.deepEqual(
    (await svc.metrics("ns", ["id==c2"])).map((m) => m.id),
    ["c2"],
  );
  assert.deepEqual((await svc.metrics("ns", [])).map((m) => m.id).sort(), ["c1", "c2"]);
  runtime.mustGet("ns", "c1").statsError = new Error("cgroup gone");
  assert.deepEqual(
    (await svc.metrics("ns", [])).map((m) => m.id),
    ["c2"],
  );
  assert.equal((await errorOf(svc.metrics("ns", ["id=="]))).kind, ErrorKind.Unknown);
  assert.deepEqual(
    (await svc.listPids("ns", "c1")).map((p) => p.pid),
    [42],
  );
});

test("checkpoint needs an image path in the runc options", async () => {
  const { svc, runtime } = setup();
  await svc.create("ns", createReq("c1"));
  const req = (imagePath?: string) =>
    create(CheckpointTaskRequestSchema, {
      containerId: "c1",
      options:
        imagePath === undefined
          ? undefined
          : create(AnySchema, {
              typeUrl: "containerd.runc.v1.CheckpointOptions",
              value: toBinary(
                CheckpointOptionsSchema,
                create(CheckpointOptionsSchema, { imagePath }),
              ),
            }),
    });
  assert.equal((await errorOf(svc.checkpoint("ns", req()))).kind, ErrorKind.NotImplemented);
  await svc.checkpoint("ns", req("/images/cp1"));
  assert.deepEqual(runtime.mustGet("ns", "c1").calls, ["checkpoint:/images/cp1"]);
});

/** A task service whose checkpoints go to a real content store in a temp dir. */
function withContent(t: { after(fn: () => void | Promise<void>): void }) {
  const fx = contentFixture(t);
  fx.namespaces.create("ns");
  const scratch = join(fx.dir, "scratch");
  const { svc, runtime } = setup({ content: () => fx.content, scratch });
  const leftovers = () => (existsSync(scratch) ? readdirSync(scratch) : []);
  return { ...fx, svc, runtime, scratch, leftovers };
}

async function blobOf(content: CheckpointContent, digest: string) {
  const parts: Uint8Array[] = [];
  for await (const c of content.readRange("ns", digest, 0, 0).chunks) parts.push(c);
  return Buffer.concat(parts);
}

const checkpointReq = (id: string) => create(CheckpointTaskRequestSchema, { containerId: id });

test("checkpoint without an image path: the CRIU tar and the spec Any in content, as containerd", async (t) => {
  const { svc, runtime, content, leases, leftovers } = withContent(t);
  await svc.create("ns", createReq("c1"));
  runtime.mustGet("ns", "c1").dump = { "inventory.img": "inv", "pages-1.img": "pages" };
  leases.create("ns", "l1");
  const [criu, config, ...rest] = await svc.checkpoint("ns", checkpointReq("c1"), "l1");
  assert.deepEqual(rest, []);
  assert.equal(criu!.mediaType, MEDIA_TYPE_CHECKPOINT);
  assert.equal(config!.mediaType, MEDIA_TYPE_CHECKPOINT_CONFIG);
  assert.deepEqual(criu!.annotations, {});

  const tar = await blobOf(content, criu!.digest!);
  assert.equal(criu!.digest, sha256Digest(tar));
  assert.equal(criu!.size, BigInt(tar.length));
  const files: Record<string, string> = {};
  for await (const e of readTar(
    (async function* () {
      yield tar;
    })(),
  )) {
    const parts: Buffer[] = [];
    for await (const b of e.body()) parts.push(b);
    files[e.header.name] = Buffer.concat(parts).toString();
  }
  assert.deepEqual(files, { "inventory.img": "inv", "pages-1.img": "pages" });

  const spec = await blobOf(content, config!.digest!);
  assert.equal(config!.size, BigInt(spec.length));
  const any = fromBinary(AnySchema, spec);
  assert.equal(any.typeUrl, specAny.typeUrl);
  assert.deepEqual(Buffer.from(any.value), Buffer.from(specAny.value));

  // both blobs are the lease's; the image dir is gone
  const held = leases.listResources("ns", "l1").map((r) => r.id);
  assert.deepEqual(held.sort(), [criu!.digest, config!.digest].sort());
  assert.deepEqual(leftovers(), []);
});

test("a failed checkpoint leaves no blob and no temp dir", async (t) => {
  const { svc, runtime, content, leftovers } = withContent(t);
  await svc.create("ns", createReq("c1"));
  const task = runtime.mustGet("ns", "c1");
  task.dump = { "inventory.img": "half" };
  task.dumpError = errNotFound("criu failed");
  await assert.rejects(svc.checkpoint("ns", checkpointReq("c1")));
  assert.deepEqual(content.list("ns"), []);
  assert.deepEqual(leftovers(), []);
});

test("create from a checkpoint descriptor: unpacked for the shim, removed after Start", async (t) => {
  const { svc, runtime, leftovers } = withContent(t);
  await svc.create("ns", createReq("c1"));
  runtime.mustGet("ns", "c1").dump = { "inventory.img": "inv" };
  const [criu] = await svc.checkpoint("ns", checkpointReq("c1"));
  await svc.create("ns", createReq("c2", { checkpoint: criu }));
  const dir = runtime.created[1]!.checkpoint!;
  assert.ok(dir.length > 0);
  assert.equal(readFileSync(join(dir, "inventory.img"), "utf8"), "inv");
  await svc.start("ns", "c2", "");
  assert.ok(!existsSync(dir), "the unpacked image outlived Start");
  assert.deepEqual(leftovers(), []);
});

test("create from a missing checkpoint is NotFound; a foreign media type Unknown", async (t) => {
  const { svc, runtime, leftovers } = withContent(t);
  const missing = {
    mediaType: MEDIA_TYPE_CHECKPOINT,
    digest: sha256Digest("nothing"),
    size: 7n,
  };
  const e = await errorOf(svc.create("ns", createReq("c1", { checkpoint: missing })));
  assert.equal(e.kind, ErrorKind.NotFound);
  const foreign = { ...missing, mediaType: "application/vnd.oci.image.layer.v1.tar" };
  const u = await errorOf(svc.create("ns", createReq("c1", { checkpoint: foreign })));
  assert.equal(u.kind, ErrorKind.Unknown);
  assert.deepEqual(runtime.created, []);
  assert.deepEqual(leftovers(), []);
});

test("a checkpoint tar escaping its dir is refused before the runtime sees it", async (t) => {
  const { svc, runtime, content, leftovers } = withContent(t);
  const { headerOf, tarEnd, tarHeader, tarPadding } = await import("../diff/tar.js");
  const evil = Buffer.concat([
    tarHeader(headerOf({ name: "../../evil", size: 1 })),
    Buffer.from("x"),
    tarPadding(1),
    tarEnd(),
  ]);
  const blob = await content.putBlob("ns", "evil", evil);
  const checkpoint = { mediaType: MEDIA_TYPE_CHECKPOINT, digest: blob.digest, size: 0n };
  const e = await errorOf(svc.create("ns", createReq("c1", { checkpoint })));
  assert.equal(e.kind, ErrorKind.InvalidArgument);
  assert.deepEqual(runtime.created, []);
  assert.deepEqual(leftovers(), []);
});
