import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry } from "@bufbuild/protobuf";
import { TaskExitSchema, TaskStartSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";
import type { ForwardRequest } from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { EventPublisher, type Forwarder } from "./publisher.js";
import { EventSpool } from "./spool.js";

class FlakyForwarder implements Forwarder {
  received: ForwardRequest[] = [];
  down = false;
  async forward(r: ForwardRequest): Promise<void> {
    await new Promise((res) => setImmediate(res));
    if (this.down) throw new Error("connection refused");
    this.received.push(r);
  }
  close(): void {}
}

const registry = createRegistry(TaskStartSchema, TaskExitSchema);

test("envelopes carry namespace, topic and a bare-named Any; delivery is in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shim-pub-"));
  const f = new FlakyForwarder();
  const spool = new EventSpool(join(dir, "s"));
  const p = new EventPublisher({
    namespace: "ns1",
    spool,
    forwarder: f,
    minBackoffMs: 1,
    maxBackoffMs: 5,
  });
  try {
    await p.publish(TaskStartSchema, create(TaskStartSchema, { containerId: "c", pid: 7 }));
    await p.publish(
      TaskExitSchema,
      create(TaskExitSchema, { containerId: "c", id: "c", pid: 7, exitStatus: 3 }),
    );
    assert.equal(f.received.length, 2);
    const [a, b] = f.received.map((r) => r.envelope!);
    assert.equal(a!.namespace, "ns1");
    assert.equal(a!.topic, "/tasks/start");
    assert.equal(a!.event!.typeUrl, "containerd.events.TaskStart");
    assert.equal(b!.topic, "/tasks/exit");
    const exit = anyUnpack(b!.event!, registry) as { exitStatus: number } | undefined;
    assert.equal(exit?.exitStatus, 3);
    assert.equal(spool.size, 0);
  } finally {
    p.close();
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("while the daemon is down events queue, publish does not hang, and all arrive in order later", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shim-pub-"));
  const f = new FlakyForwarder();
  f.down = true;
  const spool = new EventSpool(join(dir, "s"), 2);
  const p = new EventPublisher({
    namespace: "ns",
    spool,
    forwarder: f,
    minBackoffMs: 1,
    maxBackoffMs: 5,
  });
  try {
    for (let i = 1; i <= 6; i++)
      await p.publish(TaskStartSchema, create(TaskStartSchema, { containerId: "c", pid: i }));
    assert.equal(f.received.length, 0);
    assert.equal(p.pending, 6);
    f.down = false;
    assert.equal(await p.flush(5000), true);
    const pids = f.received.map(
      (r) => (anyUnpack(r.envelope!.event!, registry) as unknown as { pid: number }).pid,
    );
    assert.deepEqual(pids, [1, 2, 3, 4, 5, 6]);
  } finally {
    p.close();
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("events spooled by a previous run are delivered first", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shim-pub-"));
  try {
    const s1 = new EventSpool(join(dir, "s"));
    const p1 = new EventPublisher({ namespace: "ns", spool: s1, forwarder: undefined });
    await p1.publish(TaskStartSchema, create(TaskStartSchema, { containerId: "old", pid: 1 }));
    p1.close();
    s1.close();
    const f = new FlakyForwarder();
    const s2 = new EventSpool(join(dir, "s"));
    const p2 = new EventPublisher({ namespace: "ns", spool: s2, forwarder: f });
    await p2.publish(TaskStartSchema, create(TaskStartSchema, { containerId: "new", pid: 2 }));
    assert.equal(await p2.flush(5000), true);
    assert.deepEqual(
      f.received.map(
        (r) =>
          (anyUnpack(r.envelope!.event!, registry) as unknown as { containerId: string })
            .containerId,
      ),
      ["old", "new"],
    );
    p2.close();
    s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
