import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { Events } from "@containerd-ts/gen/containerd/services/events/v1/events_pb.js";
import { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import { describeEachRuntime, mountsUnder, shimPidsUnder } from "./tasks-support.js";

/** The Tasks API over gRPC, as containerd answers it: codes, messages, events. */

function clients(address: string, ns: string) {
  const sessionManager = new Http2SessionManager(
    "http://localhost",
    { idleConnectionTimeoutMs: 2 ** 31 - 1 },
    { createConnection: () => net.connect(address) },
  );
  const withNs: Interceptor = (next) => (req) => {
    if (!req.header.has("containerd-namespace")) req.header.set("containerd-namespace", ns);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl: "http://localhost",
    sessionManager,
    interceptors: [withNs],
  });
  return {
    containers: createClient(Containers, transport),
    tasks: createClient(Tasks, transport),
    events: createClient(Events, transport),
    close: () => sessionManager.abort(),
  };
}

function spec(rootfs: string, ns: string, id: string, args: string[]) {
  const s = {
    ociVersion: "1.0.2-dev",
    process: {
      user: { uid: 0, gid: 0 },
      args,
      env: ["PATH=/bin"],
      cwd: "/",
      noNewPrivileges: true,
    },
    root: { path: rootfs },
    mounts: [
      {
        destination: "/proc",
        type: "proc",
        source: "proc",
        options: ["nosuid", "noexec", "nodev"],
      },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755"],
      },
    ],
    linux: {
      cgroupsPath: `/${ns}/${id}`,
      namespaces: [
        { type: "pid" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
        { type: "network" },
      ],
    },
  };
  return create(AnySchema, {
    typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
    value: Buffer.from(JSON.stringify(s)),
  });
}

async function codeOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("call succeeded, an error was expected");
}

describeEachRuntime(
  "Tasks API errors and events",
  "tasks-api",
  (s) => {
    let c: ReturnType<typeof clients>;
    const newContainer = (id: string, args: string[]) =>
      c.containers.create({
        container: { id, runtime: { name: s.runtime }, spec: spec(s.rootfs, s.ns, id, args) },
      });
    before(() => {
      c = clients(s.daemon.address, s.ns);
    });
    after(() => c?.close());

    test("NotFound for an unknown container and for a container without a task", async () => {
      const unknown = await codeOf(c.tasks.get({ containerId: "nosuch" }));
      assert.equal(unknown.code, Code.NotFound);
      assert.equal(unknown.rawMessage, `container "nosuch" in namespace "${s.ns}": not found`);
      await newContainer("notask", ["/bin/true"]);
      const noTask = await codeOf(c.tasks.get({ containerId: "notask" }));
      assert.equal(noTask.code, Code.NotFound);
      assert.equal(noTask.rawMessage, "task notask not found");
      assert.equal((await codeOf(c.tasks.delete({ containerId: "notask" }))).code, Code.NotFound);
      assert.equal(
        (await codeOf(c.tasks.kill({ containerId: "notask", signal: 9 }))).code,
        Code.NotFound,
      );
      await c.containers.delete({ id: "notask" });
    });

    test("a namespace is required", async () => {
      const err = await codeOf(c.tasks.list({}, { headers: { "containerd-namespace": "" } }));
      assert.equal(err.code, Code.FailedPrecondition);
    });

    test("twice-created task, duplicate exec, delete while running, empty exec id", async () => {
      await newContainer("busy", ["/bin/sleep", "1000"]);
      const created = await c.tasks.create({ containerId: "busy" });
      assert.ok(created.pid > 0);
      assert.equal(
        (await codeOf(c.tasks.create({ containerId: "busy" }))).code,
        Code.AlreadyExists,
      );
      await c.tasks.start({ containerId: "busy" });

      const running = await codeOf(c.tasks.delete({ containerId: "busy" }));
      assert.equal(running.code, Code.FailedPrecondition);
      assert.equal(
        running.rawMessage,
        "task must be stopped before deletion: running: failed precondition",
      );

      const procSpec = create(AnySchema, {
        typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process",
        value: Buffer.from(
          JSON.stringify({
            args: ["/bin/sleep", "5"],
            cwd: "/",
            user: { uid: 0, gid: 0 },
            env: ["PATH=/bin"],
          }),
        ),
      });
      assert.equal(
        (await codeOf(c.tasks.exec({ containerId: "busy", execId: "", spec: procSpec }))).code,
        Code.InvalidArgument,
      );
      await c.tasks.exec({ containerId: "busy", execId: "x1", spec: procSpec });
      assert.equal(
        (await codeOf(c.tasks.exec({ containerId: "busy", execId: "x1", spec: procSpec }))).code,
        Code.AlreadyExists,
      );
      const exec = await c.tasks.get({ containerId: "busy", execId: "x1" });
      assert.equal(exec.process?.status, Status.CREATED);
      await c.tasks.deleteProcess({ containerId: "busy", execId: "x1" });

      const list = await c.tasks.list({});
      assert.deepEqual(
        list.tasks.map((t) => t.id),
        ["busy"],
      );
      const state = await c.tasks.get({ containerId: "busy" });
      assert.equal(state.process?.status, Status.RUNNING);
      assert.equal(state.process?.exitedAt?.seconds, -62135596800n);

      const metrics = await c.tasks.metrics({ filters: ["id==busy"] });
      assert.deepEqual(
        metrics.metrics.map((m) => m.id),
        ["busy"],
      );
      assert.equal((await c.tasks.metrics({ filters: ["id==other"] })).metrics.length, 0);
      const pids = await c.tasks.listPids({ containerId: "busy" });
      assert.ok(pids.processes.some((p) => p.pid === created.pid));

      const waiting = c.tasks.wait({ containerId: "busy" });
      await c.tasks.kill({ containerId: "busy", signal: 9, all: true });
      const exit = await waiting;
      assert.equal(exit.exitStatus, 137);
      const deleted = await c.tasks.delete({ containerId: "busy" });
      assert.equal(deleted.exitStatus, 137);
      assert.equal(deleted.pid, created.pid);
      await c.containers.delete({ id: "busy" });
    });

    test("a spec the runtime rejects: its message, nothing left behind", async () => {
      await newContainer("bad", ["/bin/no-such-binary"]);
      const err = await codeOf(c.tasks.create({ containerId: "bad" }));
      assert.match(err.rawMessage, /no-such-binary/);
      assert.equal((await codeOf(c.tasks.get({ containerId: "bad" }))).code, Code.NotFound);
      const bundles = join(s.daemon.state, "io.containerd.runtime.v2.task", s.ns);
      assert.deepEqual(
        existsSync(bundles) ? readdirSync(bundles).filter((n) => !n.startsWith(".")) : [],
        [],
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(shimPidsUnder(s.daemon.state), []);
      assert.deepEqual(mountsUnder(join(s.daemon.state)), []);
      await c.containers.delete({ id: "bad" });
    });

    test("a task's events are stored and delivered once each, exit before delete", async () => {
      const abort = new AbortController();
      const topics: string[] = [];
      const stream = c.events.subscribe(
        { filters: [`namespace==${s.ns},topic~="^/tasks/"`] },
        { signal: abort.signal },
      );
      const reading = (async () => {
        try {
          for await (const e of stream) {
            topics.push(e.topic);
            if (e.topic === "/tasks/delete") break;
          }
        } catch {
          // aborted
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await newContainer("ev", ["/bin/true"]);
      await c.tasks.create({ containerId: "ev" });
      const waiting = c.tasks.wait({ containerId: "ev" });
      await c.tasks.start({ containerId: "ev" });
      await waiting;
      await c.tasks.delete({ containerId: "ev" });
      await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
      abort.abort();
      await c.containers.delete({ id: "ev" });
      assert.deepEqual(topics, ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]);
    });
  },
  { needsCtr: false },
);
