import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createConnection, type Socket } from "node:net";
import { once } from "node:events";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GrpcCode } from "@containerd-ts/errdefs";
import { Task, StateRequestSchema } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { RequestSchema, ResponseSchema } from "@containerd-ts/gen/ttrpc/request_pb.js";
import {
  FrameDecoder,
  MAX_PAYLOAD_LENGTH,
  encodeFrame,
  encodeHeader,
  type FrameEvent,
} from "./frame.js";
import { withServer } from "./fixtures/harness.js";
import { ProtocolError } from "./server-connection.js";

/** A hand-driven peer: write raw bytes, read decoded frames, see when the server hangs up. */
class RawPeer {
  private readonly decoder = new FrameDecoder();
  readonly frames: FrameEvent[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.frames.push(...this.decoder.push(d));
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on("error", () => {});
    this.closed = once(socket, "close").then(() => {
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static async open(path: string): Promise<RawPeer> {
    const s = createConnection(path);
    await once(s, "connect");
    return new RawPeer(s);
  }
  write(b: Buffer): void {
    this.socket.write(b);
  }
  async frame(n: number): Promise<FrameEvent> {
    while (this.frames.length <= n) {
      if (this.socket.destroyed) throw new Error("connection closed before the frame arrived");
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.frames[n]!;
  }
}

const stateRequest = (id: string) =>
  toBinary(
    RequestSchema,
    create(RequestSchema, {
      service: Task.typeName,
      method: "State",
      payload: toBinary(StateRequestSchema, create(StateRequestSchema, { id })),
    }),
  );

function statusOf(ev: FrameEvent): { code: number; message: string; payload: Uint8Array } {
  assert.equal(ev.kind, "frame");
  const r = fromBinary(ResponseSchema, ev.payload);
  return { code: r.status?.code ?? 0, message: r.status?.message ?? "", payload: r.payload };
}

const impl = { state: (req: { id: string }) => ({ id: req.id }) };

/** Every malformed-frame test also proves a second, healthy connection is unaffected. */
async function assertHealthy(client: { state(r: { id: string }): Promise<{ id: string }> }) {
  assert.equal((await client.state({ id: "still-alive" })).id, "still-alive");
}

test("short header then hang-up: that connection ends with an error, nothing else", async () => {
  await withServer(Task, impl, async ({ socketPath, client, errors }) => {
    const peer = await RawPeer.open(socketPath);
    peer.socket.end(Buffer.from([0, 0, 0, 5, 0]));
    await peer.closed;
    assert.equal(peer.frames.length, 0);
    assert.ok(errors.some((e) => e instanceof ProtocolError));
    await assertHealthy(client);
  });
});

test("truncated payload then hang-up is reported and ends the connection", async () => {
  await withServer(Task, impl, async ({ socketPath, client, errors }) => {
    const peer = await RawPeer.open(socketPath);
    peer.socket.end(
      Buffer.concat([
        encodeHeader({ length: 100, streamId: 1, type: 1, flags: 0 }),
        Buffer.alloc(10),
      ]),
    );
    await peer.closed;
    assert.equal(errors.length, 1);
    await assertHealthy(client);
  });
});

test("oversize length: ResourceExhausted on that stream, payload skipped, connection keeps working (as Go)", async () => {
  await withServer(Task, impl, async ({ socketPath, client }) => {
    const peer = await RawPeer.open(socketPath);
    peer.write(encodeHeader({ length: MAX_PAYLOAD_LENGTH + 1, streamId: 1, type: 1, flags: 0 }));
    const first = await peer.frame(0);
    assert.equal(first.header.streamId, 1);
    assert.equal(first.header.type, 2);
    assert.equal(statusOf(first).code, GrpcCode.ResourceExhausted);
    peer.write(Buffer.alloc(MAX_PAYLOAD_LENGTH + 1, 0xaa));
    peer.write(encodeFrame(3, 1, stateRequest("after-oversize")));
    const second = await peer.frame(1);
    assert.equal(second.header.streamId, 3);
    assert.equal(statusOf(second).code, GrpcCode.OK);
    peer.socket.destroy();
    await assertHealthy(client);
  });
});

test("even stream id from a client: InvalidArgument on that id, then the connection ends", async () => {
  await withServer(Task, impl, async ({ socketPath, client, errors }) => {
    const peer = await RawPeer.open(socketPath);
    peer.write(encodeFrame(2, 1, stateRequest("even")));
    const ev = await peer.frame(0);
    assert.equal(ev.header.streamId, 2);
    assert.equal(statusOf(ev).code, GrpcCode.InvalidArgument);
    await peer.closed;
    assert.equal(errors.length, 1);
    await assertHealthy(client);
  });
});

test("stream id 0 is even too", async () => {
  await withServer(Task, impl, async ({ socketPath, client }) => {
    const peer = await RawPeer.open(socketPath);
    peer.write(encodeFrame(0, 1, stateRequest("zero")));
    assert.equal(statusOf(await peer.frame(0)).code, GrpcCode.InvalidArgument);
    await peer.closed;
    await assertHealthy(client);
  });
});

test("garbage instead of a Request: InvalidArgument (Go: unmarshal request error), then the connection ends", async () => {
  await withServer(Task, impl, async ({ socketPath, client }) => {
    const peer = await RawPeer.open(socketPath);
    peer.write(encodeFrame(1, 1, Buffer.from([0xff, 0xff, 0xff, 0xff])));
    const ev = await peer.frame(0);
    assert.equal(ev.header.streamId, 1);
    assert.equal(statusOf(ev).code, GrpcCode.InvalidArgument);
    await peer.closed;
    await assertHealthy(client);
  });
});

test("undecodable method payload inside a good Request is 13 Internal and the connection stays", async () => {
  await withServer(Task, impl, async ({ socketPath }) => {
    const peer = await RawPeer.open(socketPath);
    const req = create(RequestSchema, {
      service: Task.typeName,
      method: "State",
      payload: Buffer.from([0x0a, 0x05, 0x41]),
    });
    peer.write(encodeFrame(1, 1, toBinary(RequestSchema, req)));
    assert.equal(statusOf(await peer.frame(0)).code, GrpcCode.Internal);
    peer.write(encodeFrame(3, 1, stateRequest("next")));
    assert.equal(statusOf(await peer.frame(1)).code, GrpcCode.OK);
    peer.socket.destroy();
  });
});

test("message type 3 (and a response sent to the server) end the connection", async () => {
  for (const type of [3, 2, 0, 255]) {
    await withServer(Task, impl, async ({ socketPath, client, errors }) => {
      const peer = await RawPeer.open(socketPath);
      peer.write(encodeFrame(1, type, stateRequest("t")));
      await peer.closed;
      assert.equal(peer.frames.length, 0);
      assert.equal(errors.length, 1);
      await assertHealthy(client);
    });
  }
});

test("reusing an in-flight stream id ends the connection", async () => {
  await withServer(Task, { state: () => new Promise(() => {}) }, async ({ socketPath }) => {
    const peer = await RawPeer.open(socketPath);
    peer.write(encodeFrame(1, 1, stateRequest("a")));
    peer.write(encodeFrame(1, 1, stateRequest("b")));
    assert.equal(statusOf(await peer.frame(0)).code, GrpcCode.InvalidArgument);
    await peer.closed;
  });
});

test("random garbage on many connections never takes the server down", async () => {
  await withServer(Task, impl, async ({ socketPath, client }) => {
    for (let i = 0; i < 100; i++) {
      const peer = await RawPeer.open(socketPath);
      const junk = randomBytes(1 + (i % 40));
      peer.socket.end(
        i % 2 === 0
          ? junk
          : Buffer.concat([
              encodeHeader({ length: junk.length, streamId: 2 * i + 1, type: 1, flags: 0 }),
              junk,
            ]),
      );
      await peer.closed;
    }
    await assertHealthy(client);
  });
});
