import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { TaskExitSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";
import { Events } from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { createTtrpcClient, dialTtrpc } from "@containerd-ts/ttrpc";
import { eventAny } from "../runtime/events.js";
import { EventsTtrpcServer, type ForwardedEnvelope } from "./server.js";

function exit(pid: number): ForwardedEnvelope {
  const ev = create(TaskExitSchema, {
    containerId: "c1",
    id: "c1",
    pid,
    exitStatus: 1,
    exitedAt: { seconds: 100n, nanos: 7 },
  });
  return {
    timestamp: timestampNow(),
    namespace: "ns1",
    topic: "/tasks/exit",
    event: eventAny(TaskExitSchema.typeName, toBinary(TaskExitSchema, ev)),
  };
}

test("Forward stores each envelope; an exit already in the history is not stored again", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-ev-"));
  const stored: ForwardedEnvelope[] = [exit(41)];
  const exchange = {
    forward: async (e: ForwardedEnvelope) => void stored.push(e),
    history: () => stored.slice(),
    lastSeq: () => stored.length,
  };
  const server = new EventsTtrpcServer(exchange);
  const path = join(dir, "c.sock.ttrpc");
  await server.listen(path);
  const conn = await dialTtrpc(path, { timeoutMs: 2000 });
  try {
    const client = createTtrpcClient(Events, conn, {
      metadata: { "containerd-namespace-ttrpc": "ns1" },
    });
    await client.forward({ envelope: exit(41) }); // stored before the "restart"
    await client.forward({ envelope: exit(42) });
    await client.forward({ envelope: exit(42) }); // the shim re-sent it
    const start = { ...exit(42), topic: "/tasks/start" };
    await client.forward({ envelope: start });
    await client.forward({ envelope: start });
    assert.deepEqual(
      stored.map((e) => e.topic),
      ["/tasks/exit", "/tasks/exit", "/tasks/start", "/tasks/start"],
    );
    const bad = await client
      .forward({ envelope: { ...exit(43), namespace: "../x" } })
      .catch((e: unknown) => e);
    assert.equal(kindOf(bad), ErrorKind.InvalidArgument);
    const empty = await client.forward({}).catch((e: unknown) => e);
    assert.equal(kindOf(empty), ErrorKind.InvalidArgument);
  } finally {
    conn.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
