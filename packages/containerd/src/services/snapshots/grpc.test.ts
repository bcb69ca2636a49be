import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { Diff } from "@containerd-ts/gen/containerd/services/diff/v1/diff_pb.js";
import { Introspection } from "@containerd-ts/gen/containerd/services/introspection/v1/introspection_pb.js";
import { Leases } from "@containerd-ts/gen/containerd/services/leases/v1/leases_pb.js";
import {
  Kind,
  Snapshots,
} from "@containerd-ts/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { testDaemon } from "../../test-daemon.js";

/** The Snapshots and Diff services through the daemon's real HTTP/2 gRPC server. */
async function daemon(t: TestContext) {
  const { config, transport } = await testDaemon(t, "ctd-snapshots-grpc-");
  return {
    root: config.root,
    snapshots: createClient(Snapshots, transport),
    diff: createClient(Diff, transport),
    leases: createClient(Leases, transport),
    introspection: createClient(Introspection, transport),
    containers: createClient(Containers, transport),
  };
}

const NS = { "containerd-namespace": "grpc" };
const code = (c: Code) => (e: unknown) => e instanceof ConnectError && e.code === c;
const native = { snapshotter: "native" };

test("grpc snapshots: prepare/commit/stat/list/usage/remove and their codes", async (t) => {
  const { snapshots } = await daemon(t);
  const headers = NS;
  const prepared = await snapshots.prepare(
    { ...native, key: "k1", labels: { a: "1" } },
    { headers },
  );
  assert.equal(prepared.mounts[0]!.type, "bind");
  await assert.rejects(
    snapshots.prepare({ ...native, key: "k1" }, { headers }),
    code(Code.AlreadyExists),
  );
  await assert.rejects(
    snapshots.prepare({ ...native, key: "k2", parent: "nope" }, { headers }),
    code(Code.NotFound),
  );
  await assert.rejects(
    snapshots.prepare({ ...native, key: "k2", parent: "k1" }, { headers }),
    code(Code.InvalidArgument),
  );
  await snapshots.commit({ ...native, name: "c1", key: "k1" }, { headers });
  const info = (await snapshots.stat({ ...native, key: "c1" }, { headers })).info!;
  assert.equal(info.kind, Kind.COMMITTED);
  await assert.rejects(
    snapshots.mounts({ ...native, key: "c1" }, { headers }),
    code(Code.FailedPrecondition),
  );
  await snapshots.view({ ...native, key: "v1", parent: "c1" }, { headers });
  const listed: string[] = [];
  for await (const r of snapshots.list({ ...native, filters: ["kind==view"] }, { headers })) {
    listed.push(...r.info.map((i) => i.name));
  }
  assert.deepEqual(listed, ["v1"]);
  const usage = await snapshots.usage({ ...native, key: "c1" }, { headers });
  assert.equal(usage.inodes, 1n);
  const updated = await snapshots.update(
    { ...native, info: { name: "c1", labels: { b: "2" } }, updateMask: { paths: ["labels.b"] } },
    { headers },
  );
  assert.deepEqual(updated.info!.labels, { b: "2" });
  await assert.rejects(
    snapshots.remove({ ...native, key: "c1" }, { headers }),
    code(Code.FailedPrecondition),
  );
  await snapshots.remove({ ...native, key: "v1" }, { headers });
  await snapshots.remove({ ...native, key: "c1" }, { headers });
  await assert.rejects(snapshots.stat({ ...native, key: "c1" }, { headers }), code(Code.NotFound));
  // containerd's service: an unknown snapshotter is InvalidArgument, Cleanup is not offered
  await assert.rejects(
    snapshots.stat({ snapshotter: "nosuch", key: "x" }, { headers }),
    code(Code.InvalidArgument),
  );
  await assert.rejects(snapshots.stat({ key: "x" }, { headers }), code(Code.InvalidArgument));
  await assert.rejects(snapshots.cleanup(native, { headers }), code(Code.Unimplemented));
  await assert.rejects(snapshots.stat({ ...native, key: "x" }), code(Code.FailedPrecondition));
});

test("grpc snapshots: a lease header holds what is prepared; deleting the lease collects it", async (t) => {
  const { snapshots, leases, root } = await daemon(t);
  await leases.create({ id: "l1" }, { headers: NS });
  const headers = { ...NS, "containerd-lease": "l1" };
  const [m] = (await snapshots.prepare({ ...native, key: "extract" }, { headers })).mounts;
  const res = await leases.listResources({ id: "l1" }, { headers: NS });
  assert.deepEqual(
    res.resources.map((r) => `${r.type}:${r.id}`),
    ["snapshots/native:extract"],
  );
  await assert.rejects(
    snapshots.prepare({ ...native, key: "x" }, { headers: { ...NS, "containerd-lease": "no" } }),
    code(Code.NotFound),
  );
  await leases.delete({ id: "l1", sync: true }, { headers: NS });
  await assert.rejects(
    snapshots.stat({ ...native, key: "extract" }, { headers: NS }),
    code(Code.NotFound),
  );
  const dir = join(root, "io.containerd.snapshotter.v1.native", "snapshots");
  // the collection renames the directory (rm-<id>) before removing it: wait for both steps
  for (let i = 0; i < 100 && readdirSync(dir).length > 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(!existsSync(m!.source));
  assert.deepEqual(readdirSync(dir), []);
});

test("grpc introspection lists the snapshotters, the differ and both services", async (t) => {
  const { introspection } = await daemon(t);
  const { plugins } = await introspection.plugins({});
  const ids = plugins.map((p) => `${p.type}/${p.id}`);
  for (const want of [
    "io.containerd.snapshotter.v1/native",
    "io.containerd.differ.v1/walking",
    "io.containerd.grpc.v1/snapshots",
    "io.containerd.grpc.v1/diff",
  ]) {
    assert.ok(ids.includes(want), want);
  }
});

test("grpc diff: Apply of missing content is NotFound, Diff of an unknown media type Unimplemented", async (t) => {
  const { diff, snapshots } = await daemon(t);
  const headers = NS;
  const mounts = (await snapshots.prepare({ ...native, key: "k" }, { headers })).mounts;
  await assert.rejects(
    diff.apply(
      {
        diff: {
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: `sha256:${"0".repeat(64)}`,
          size: 1n,
        },
        mounts,
      },
      { headers },
    ),
    code(Code.NotFound),
  );
  await assert.rejects(
    diff.diff({ left: mounts, right: mounts, mediaType: "application/zip" }, { headers }),
    code(Code.Unimplemented),
  );
  const same = await diff.diff({ left: mounts, right: mounts }, { headers });
  assert.equal(same.diff!.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
});

test("grpc snapshots: a container holds its snapshot; deleting the container frees it", async (t) => {
  const { snapshots, containers } = await daemon(t);
  const headers = NS;
  await snapshots.prepare({ ...native, key: "held" }, { headers });
  await snapshots.prepare({ ...native, key: "loose" }, { headers });
  const container = {
    id: "c1",
    runtime: { name: "io.containerd.runc.v2" },
    spec: {
      typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
      value: new Uint8Array(),
    },
    snapshotter: "native",
    snapshotKey: "held",
  };
  await containers.create({ container }, { headers });
  // any removal runs the collector: the loose one goes, the container's stays
  await snapshots.prepare({ ...native, key: "trigger" }, { headers });
  await snapshots.remove({ ...native, key: "trigger" }, { headers });
  const names = async () => {
    const out: string[] = [];
    for await (const r of snapshots.list(native, { headers }))
      out.push(...r.info.map((i) => i.name));
    return out;
  };
  const until = async (want: string[]) => {
    for (let i = 0; i < 200 && (await names()).join() !== want.join(); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await names(), want);
  };
  await until(["held"]);
  await containers.delete({ id: "c1" }, { headers });
  await until([]);
});
