import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  Content,
  WriteAction,
  type WriteContentRequest,
} from "@containerd-ts/gen/containerd/services/content/v1/content_pb.js";
import { Images } from "@containerd-ts/gen/containerd/services/images/v1/images_pb.js";
import { Introspection } from "@containerd-ts/gen/containerd/services/introspection/v1/introspection_pb.js";
import { Leases } from "@containerd-ts/gen/containerd/services/leases/v1/leases_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { WriteContentRequestSchema } from "@containerd-ts/gen/containerd/services/content/v1/content_pb.js";
import { testDaemon } from "../../test-daemon.js";
import { sha256Digest } from "./digest.js";
import { contentServiceFor } from "./domain.js";

/** The Content and Images services through the daemon's real HTTP/2 gRPC server. */
async function daemon(t: TestContext) {
  const { d, transport } = await testDaemon(t, "ctd-content-grpc-");
  return {
    d,
    content: createClient(Content, transport),
    images: createClient(Images, transport),
    leases: createClient(Leases, transport),
    introspection: createClient(Introspection, transport),
  };
}

const NS = { "containerd-namespace": "grpc" };
const code = (c: Code) => (e: unknown) => e instanceof ConnectError && e.code === c;

async function* send(msgs: MessageInitShape<typeof WriteContentRequestSchema>[]) {
  yield* msgs as WriteContentRequest[];
}

test("grpc content: List streams blocks of 100 without updated_at", async (t) => {
  const { d, content } = await daemon(t);
  const store = contentServiceFor(d.ctx);
  for (let i = 0; i < 150; i++) {
    await store.putBlob("grpc", `r${i}`, Buffer.from(`blob ${i}`), {
      labels: { "containerd.io/gc.root": "test" },
    });
  }
  const blocks: number[] = [];
  for await (const res of content.list({}, { headers: NS })) {
    blocks.push(res.info.length);
    assert.ok(res.info.every((i) => i.updatedAt === undefined && i.createdAt !== undefined));
  }
  assert.deepEqual(blocks, [100, 50]);
});

test("grpc content: Write over HTTP/2 with a lease; Read in chunks from offset 0; OutOfRange", async (t) => {
  const { content, leases } = await daemon(t);
  await leases.create({ id: "w" }, { headers: NS });
  const data = Buffer.alloc((5 << 20) / 2, 7); // 2.5 MiB: three 1 MiB read chunks
  const digest = sha256Digest(data);
  const headers = { ...NS, "containerd-lease": "w" };
  const answers = [];
  for await (const res of content.write(
    send([
      { action: WriteAction.STAT, ref: "big", total: BigInt(data.length), expected: digest },
      { action: WriteAction.WRITE, data: data.subarray(0, 1 << 20) },
      { action: WriteAction.COMMIT, offset: 1n << 20n, data: data.subarray(1 << 20) },
    ]),
    { headers },
  )) {
    answers.push([res.action, Number(res.offset)]);
  }
  assert.deepEqual(answers, [
    [WriteAction.STAT, 0],
    [WriteAction.WRITE, 1 << 20],
    [WriteAction.COMMIT, data.length],
    [WriteAction.COMMIT, data.length],
  ]);
  const res = await leases.listResources({ id: "w" }, { headers: NS });
  assert.deepEqual(
    res.resources.map((r) => [r.type, r.id]),
    [["content", digest]],
  );

  const chunks: Array<[number, number]> = [];
  for await (const c of content.read({ digest, offset: 1n }, { headers: NS })) {
    chunks.push([Number(c.offset), c.data.length]);
  }
  assert.deepEqual(chunks, [
    [0, 1 << 20],
    [1 << 20, 1 << 20],
    [2 << 20, data.length - 1 - (2 << 20)],
  ]);
  const past = async () => {
    for await (const _ of content.read(
      { digest, offset: BigInt(data.length + 1) },
      { headers: NS },
    ));
  };
  await assert.rejects(past(), code(Code.OutOfRange));
  await assert.rejects(
    content.info({ digest: "sha256:nope" }, { headers: NS }),
    code(Code.InvalidArgument),
  );
  await assert.rejects(content.info({ digest }), code(Code.FailedPrecondition));
});

test("grpc content: a wrong digest at commit is FailedPrecondition; a bad offset OutOfRange", async (t) => {
  const { content } = await daemon(t);
  const drain = async (msgs: MessageInitShape<typeof WriteContentRequestSchema>[]) => {
    for await (const _ of content.write(send(msgs), { headers: NS }));
  };
  await assert.rejects(
    drain([
      { action: WriteAction.STAT, ref: "x" },
      { action: WriteAction.COMMIT, data: Buffer.from("abc"), expected: sha256Digest("xyz") },
    ]),
    code(Code.FailedPrecondition),
  );
  await assert.rejects(
    drain([
      { action: WriteAction.STAT, ref: "y" },
      { action: WriteAction.WRITE, offset: 9n, data: Buffer.from("abc") },
    ]),
    code(Code.OutOfRange),
  );
  const statuses = await content.listStatuses({}, { headers: NS });
  assert.deepEqual(
    statuses.statuses.map((s) => [s.ref, Number(s.offset)]),
    [
      ["x", 3],
      ["y", 0],
    ],
  );
});

test("grpc images: create, get, update by mask, list, delete; codes; plugins listed", async (t) => {
  const { images, introspection } = await daemon(t);
  const target = { mediaType: "m", digest: sha256Digest("m"), size: 1n };
  await images.create({ image: { name: "img", labels: { a: "1" }, target } }, { headers: NS });
  await assert.rejects(
    images.create({ image: { name: "img", target } }, { headers: NS }),
    code(Code.AlreadyExists),
  );
  await assert.rejects(
    images.create({ image: { name: "x" } }, { headers: NS }),
    code(Code.InvalidArgument),
  );
  const updated = await images.update(
    { image: { name: "img", labels: { b: "2" } }, updateMask: { paths: ["labels.b"] } },
    { headers: NS },
  );
  assert.deepEqual(updated.image?.labels, { a: "1", b: "2" });
  assert.equal(updated.image?.target?.size, 1n);
  const got = await images.get({ name: "img" }, { headers: NS });
  assert.deepEqual(got.image?.labels, { a: "1", b: "2" });
  const list = await images.list({ filters: ["labels.b==2"] }, { headers: NS });
  assert.deepEqual(
    list.images.map((i) => i.name),
    ["img"],
  );
  await images.delete({ name: "img", sync: true }, { headers: NS });
  await assert.rejects(images.get({ name: "img" }, { headers: NS }), code(Code.NotFound));
  const plugins = await introspection.plugins({ filters: ["id==content", "id==images"] });
  assert.deepEqual(plugins.plugins.map((p) => `${p.type}.${p.id}`).sort(), [
    "io.containerd.content.v1.content",
    "io.containerd.grpc.v1.content",
    "io.containerd.grpc.v1.images",
  ]);
});
