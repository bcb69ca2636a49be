import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { statSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AnySchema, FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { Events } from "@containerd-ts/gen/containerd/services/events/v1/events_pb.js";
import { Introspection } from "@containerd-ts/gen/containerd/services/introspection/v1/introspection_pb.js";
import { Leases } from "@containerd-ts/gen/containerd/services/leases/v1/leases_pb.js";
import { Namespaces } from "@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js";
import { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Health } from "@containerd-ts/gen/grpc/health/v1/health_pb.js";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { resolveConfig } from "./config.js";
import { createLogger } from "./context.js";
import { Daemon, serviceRegistrations } from "./server.js";
import { testDaemon } from "./test-daemon.js";

async function startDaemon(t: TestContext) {
  // the client buffers the whole oversized request; let its session hold it
  const { d, transport, config, dir } = await testDaemon(t, "ctd-server-", {
    maxSessionMemory: 100,
  });
  return { daemon: d, transport, config, dir };
}

const ns = (n: string) => ({ headers: { "containerd-namespace": n } });
const spec = create(AnySchema, {
  typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
  value: Buffer.from('{"ociVersion":"1.0.2","process":{"args":["/bin/sh"]}}'),
});

async function code(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

function containersClient(transport: Transport) {
  return createClient(Containers, transport);
}

test("the socket is created with mode 0660", async (t) => {
  const { config } = await startDaemon(t);
  assert.equal(statSync(config.address).mode & 0o777, 0o660);
});

test("errors carry containerd's gRPC codes", async (t) => {
  const { transport } = await startDaemon(t);
  const c = containersClient(transport);
  const container = { id: "c1", runtime: { name: "io.containerd.runc.v2" }, spec };
  assert.equal(await code(c.get({ id: "x" })), Code.FailedPrecondition, "no namespace header");
  assert.equal(await code(c.get({ id: "x" }, ns("bad ns"))), Code.InvalidArgument);
  assert.equal(await code(c.get({ id: "x" }, ns("default"))), Code.NotFound);
  await c.create({ container }, ns("default"));
  assert.equal(await code(c.create({ container }, ns("default"))), Code.AlreadyExists);
  assert.equal(
    await code(c.create({ container: { ...container, id: "-bad" } }, ns("default"))),
    Code.InvalidArgument,
  );
  assert.equal(
    await code(
      c.create(
        { container: { ...container, id: "c2", labels: { k: "v".repeat(5000) } } },
        ns("default"),
      ),
    ),
    Code.InvalidArgument,
  );
  assert.equal(
    await code(c.create({ container: { ...container, id: "c3", spec: undefined } }, ns("default"))),
    Code.InvalidArgument,
  );
  assert.equal(
    (await c.list({}, ns("default"))).containers.length,
    1,
    "nothing written by bad requests",
  );
  const nsClient = createClient(Namespaces, transport);
  assert.equal(await code(nsClient.delete({ name: "default" })), Code.FailedPrecondition);
  assert.equal(await code(nsClient.delete({ name: "nope" })), Code.NotFound);
});

test("unknown services and methods answer Unimplemented", async (t) => {
  const { transport } = await startDaemon(t);
  if (!serviceRegistrations.some((r) => r.name.toLowerCase().includes("task"))) {
    const tasks = createClient(Tasks, transport);
    const err = await tasks
      .get({ containerId: "x" }, ns("default"))
      .catch((e: unknown) => ConnectError.from(e));
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Unimplemented);
    assert.match(err.rawMessage, /unknown service containerd.services.tasks.v1.Tasks/);
  }
});

test("field masks on container and namespace updates", async (t) => {
  const { transport } = await startDaemon(t);
  const c = containersClient(transport);
  const base = {
    id: "web",
    runtime: { name: "io.containerd.runc.v2" },
    spec,
    labels: { a: "1", b: "2" },
    image: "img:1",
  };
  await c.create({ container: base }, ns("default"));
  const mask = (...paths: string[]) => create(FieldMaskSchema, { paths });
  let got = (
    await c.update(
      {
        container: { ...base, labels: { a: "9", c: "3" }, image: "img:2" },
        updateMask: mask("labels.a", "labels.b"),
      },
      ns("default"),
    )
  ).container!;
  assert.deepEqual(got.labels, { a: "9" });
  assert.equal(got.image, "img:1");
  got = (
    await c.update(
      { container: { ...base, image: "img:3" }, updateMask: mask("image") },
      ns("default"),
    )
  ).container!;
  assert.equal(got.image, "img:3");
  assert.equal(
    await code(
      c.update(
        { container: { ...base, runtime: { name: "other" } }, updateMask: mask("runtime") },
        ns("default"),
      ),
    ),
    Code.InvalidArgument,
  );
  assert.equal(
    await code(c.update({ container: { ...base, snapshotter: "x" } }, ns("default"))),
    Code.InvalidArgument,
  );
  assert.deepEqual(
    Buffer.from((await c.get({ id: "web" }, ns("default"))).container!.spec!.value),
    Buffer.from(spec.value),
  );

  const n = createClient(Namespaces, transport);
  await n.create({ namespace: { name: "lab", labels: { x: "1" } } });
  await n.update({ namespace: { name: "lab", labels: { y: "2" } }, updateMask: mask("labels.y") });
  assert.deepEqual((await n.get({ name: "lab" })).namespace!.labels, { x: "1", y: "2" });
  assert.equal(
    await code(n.update({ namespace: { name: "lab" }, updateMask: mask("name") })),
    Code.InvalidArgument,
  );
  assert.deepEqual((await n.get({ name: "never-created" })).namespace, {
    $typeName: "containerd.services.namespaces.v1.Namespace",
    name: "never-created",
    labels: {},
  });
});

test("ListStream, leases, introspection, health", async (t) => {
  const { transport } = await startDaemon(t);
  const c = containersClient(transport);
  for (const id of ["web-1", "web-2", "db"]) {
    await c.create(
      {
        container: {
          id,
          runtime: { name: "io.containerd.runc.v2" },
          spec,
          labels: { tier: id.startsWith("web") ? "front" : "back" },
        },
      },
      ns("default"),
    );
  }
  const streamed: string[] = [];
  for await (const m of c.listStream({ filters: ["id~=^web"] }, ns("default")))
    streamed.push(m.container!.id);
  assert.deepEqual(streamed, ["web-1", "web-2"]);
  assert.deepEqual(
    (await c.list({ filters: ['labels."tier"==back'] }, ns("default"))).containers.map((x) => x.id),
    ["db"],
  );

  const l = createClient(Leases, transport);
  const lease = (
    await l.create({ labels: { "containerd.io/gc.expire": "2999-01-01T00:00:00Z" } }, ns("default"))
  ).lease!;
  assert.ok(lease.id.length > 0);
  // content resources are digests (containerd parses them with go-digest)
  const digest = `sha256:${"ab".repeat(32)}`;
  await l.addResource({ id: lease.id, resource: { id: digest, type: "content" } }, ns("default"));
  assert.equal(
    await code(
      l.addResource(
        { id: lease.id, resource: { id: "sha256:abcd", type: "content" } },
        ns("default"),
      ),
    ),
    Code.InvalidArgument,
  );
  assert.equal(
    await code(
      l.addResource({ id: lease.id, resource: { id: "x", type: "weird" } }, ns("default")),
    ),
    Code.Unimplemented,
  );
  assert.deepEqual(
    (await l.listResources({ id: lease.id }, ns("default"))).resources.map((r) => r.id),
    [digest],
  );
  assert.equal((await l.list({ filters: [`id==${lease.id}`] }, ns("default"))).leases.length, 1);
  await l.delete({ id: lease.id }, ns("default"));
  assert.equal(await code(l.delete({ id: lease.id }, ns("default"))), Code.NotFound);

  const i = createClient(Introspection, transport);
  const s1 = await i.server({});
  assert.match(s1.uuid, /^[0-9a-f-]{36}$/);
  assert.equal(s1.pid, BigInt(process.pid));
  const plugins = (await i.plugins({ filters: ["type==io.containerd.grpc.v1"] })).plugins.map(
    (p) => p.id,
  );
  assert.ok(plugins.includes("containers") && plugins.includes("version"));
  assert.ok(plugins.includes("events-history"), "our extension service is listed too");
  assert.equal((await createClient(Health, transport).check({})).status, 1);
});

test("events: Publish/Forward reach subscribers, Subscribe stays open", async (t) => {
  const { transport, daemon } = await startDaemon(t);
  const ev = createClient(Events, transport);
  const ac = new AbortController();
  const seen: string[] = [];
  const sub = (async () => {
    try {
      for await (const e of ev.subscribe(
        { filters: ['topic~="^/test/"'] },
        { signal: ac.signal },
      )) {
        seen.push(e.topic);
        if (seen.length === 2) ac.abort();
      }
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    }
  })();
  while (daemon.ctx.events.subscriberCount === 0) await new Promise((r) => setTimeout(r, 10));
  const event = create(AnySchema, {
    typeUrl: "containerd.events.ContainerDelete",
    value: new Uint8Array([10, 1, 120]),
  });
  await ev.publish({ topic: "/other", event }, ns("default"));
  await ev.publish({ topic: "/test/one", event }, ns("default"));
  assert.equal(await code(ev.publish({ topic: "/test/x", event })), Code.FailedPrecondition);
  await ev.forward({
    envelope: { namespace: "n2", topic: "/test/two", event, timestamp: { seconds: 1n, nanos: 0 } },
  });
  await sub;
  assert.deepEqual(seen, ["/test/one", "/test/two"]);
  assert.deepEqual(
    daemon.ctx.events.history({ filters: ["namespace==n2"] }).map((e) => e.topic),
    ["/test/two"],
  );
});

test("a request over the size cap is refused", async (t) => {
  const { transport } = await startDaemon(t);
  const big = create(AnySchema, { typeUrl: spec.typeUrl, value: new Uint8Array(17 << 20) });
  const c = containersClient(transport);
  const got = await code(
    c.create({ container: { id: "big", runtime: { name: "r" }, spec: big } }, ns("default")),
  );
  assert.equal(got, Code.ResourceExhausted);
});

test("a live daemon's socket is refused, a dead one's is replaced", async (t) => {
  const { config, dir } = await startDaemon(t);
  const other = resolveConfig({
    address: config.address,
    root: join(dir, "root2"),
    state: join(dir, "state2"),
  });
  await assert.rejects(
    Daemon.start(other, createLogger("error")),
    (e) => kindOf(e) === ErrorKind.FailedPrecondition,
  );

  // a socket file whose listener was SIGKILLed
  const stale = join(dir, "stale.sock");
  const child = spawn(process.execPath, [
    "-e",
    `require("net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`,
  ]);
  await once(child.stdout!, "data");
  child.kill("SIGKILL");
  await once(child, "exit");
  assert.ok(statSync(stale).isSocket());
  const revived = await Daemon.start(
    resolveConfig({ address: stale, root: join(dir, "root3"), state: join(dir, "state3") }),
    createLogger("error"),
  );
  await revived.stop();
});
