import { test } from "node:test";
import assert from "node:assert/strict";
import { createConnection, createServer } from "node:net";
import { once } from "node:events";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ErrorKind, errInvalidArgument, errNotFound, kindOf } from "@containerd-ts/errdefs";
import { Task } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { Events } from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { createTtrpcClient } from "./client.js";
import { dialTtrpc } from "./client-connection.js";
import { FrameDecoder, type FrameEvent } from "./frame.js";
import { TtrpcServer } from "./server.js";
import type { TtrpcCallContext } from "./registry.js";
import { tempDir, withServer } from "./fixtures/harness.js";
import {
  forwardOkResponse,
  goDaemonExchange as daemon,
  goForwardTaskCreateRequest,
  goForwardTaskExitRequest,
  goShimExchange as go,
} from "./fixtures/go-frames.js";
import { makeBusyboxBundle, realShimUnavailable, startRealShim } from "./fixtures/real-shim.js";

const hex = (s: string) => Buffer.from(s, "hex");

/** Sends raw bytes and collects the raw answer bytes of `n` frames. */
async function rawRoundTrip(path: string, request: Buffer, n = 1): Promise<Buffer> {
  const s = createConnection(path);
  await once(s, "connect");
  const chunks: Buffer[] = [];
  const dec = new FrameDecoder();
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    s.on("data", (d: Buffer) => {
      chunks.push(d);
      got += dec.push(d).length;
      if (got >= n) resolve();
    });
    s.on("close", () => reject(new Error("closed early")));
  });
  s.write(request);
  await done;
  s.destroy();
  return Buffer.concat(chunks);
}

test("Go client frames (shim → Events.Forward) are served; our answer is the bytes Go expects", async () => {
  const seen: { topic: string; ns: string; md: Map<string, string[]>; timeoutMs?: number }[] = [];
  await withServer(
    Events,
    {
      forward: (req, ctx: TtrpcCallContext) => {
        seen.push({
          topic: req.envelope!.topic,
          ns: req.envelope!.namespace,
          md: ctx.metadata,
          timeoutMs: ctx.timeoutMs,
        });
        return {};
      },
    },
    async ({ socketPath }) => {
      const a = await rawRoundTrip(socketPath, hex(goForwardTaskCreateRequest));
      assert.equal(a.toString("hex"), forwardOkResponse(1));
      const b = await rawRoundTrip(socketPath, hex(goForwardTaskExitRequest));
      assert.equal(b.toString("hex"), forwardOkResponse(5));
      assert.deepEqual(
        seen.map((s) => [s.topic, s.ns]),
        [
          ["/tasks/create", "ttxrec"],
          ["/tasks/exit", "ttxrec"],
        ],
      );
      assert.deepEqual(seen[0]!.md.get("containerd-namespace-ttrpc"), ["ttxrec"]);
      assert.ok(seen[0]!.timeoutMs! > 4000 && seen[0]!.timeoutMs! <= 5000);
    },
  );
});

test("our server answers the recorded requests with the same bytes as the Go shim", async () => {
  await withServer(
    Task,
    {
      connect: () => ({ shimPid: 14832 }),
      state: () => {
        throw errNotFound("container not created: not found");
      },
    },
    async ({ socketPath }) => {
      assert.equal(
        (await rawRoundTrip(socketPath, hex(go.connectRequest))).toString("hex"),
        go.connectResponse,
      );
      assert.equal(
        (await rawRoundTrip(socketPath, hex(go.stateRequest))).toString("hex"),
        go.stateNotFoundResponse,
      );
      // A payload Go cannot decode is 13 here too (the message text comes from each decoder).
      const garbage = await rawRoundTrip(socketPath, hex(go.garbagePayloadRequest));
      const [ev] = new FrameDecoder().push(garbage) as FrameEvent[];
      assert.equal(ev?.header.streamId, 0x0b);
      assert.equal(ev?.kind === "frame" && ev.payload[2], 0x08);
      assert.equal(ev?.kind === "frame" && ev.payload[3], 13);
    },
  );
});

test("our client decodes the Go shim's recorded answers into the right results and kinds", async () => {
  const dir = tempDir();
  const path = join(dir.path, "go-replay.sock");
  // Replays Go's answers, re-addressed to the stream id of each request.
  const answers = [
    go.connectResponse,
    go.stateNotFoundResponse,
    go.unknownMethodResponse,
    go.unknownServiceResponse,
    go.garbagePayloadResponse,
    daemon.invalidTopicResponse,
    daemon.forwardOkResponse,
  ];
  const replay = createServer((s) => {
    const dec = new FrameDecoder();
    s.on("data", (d: Buffer) => {
      for (const ev of dec.push(d)) {
        const answer = hex(answers.shift()!);
        answer.writeUInt32BE(ev.header.streamId, 4);
        s.write(answer);
      }
    });
  });
  try {
    await new Promise<void>((r) => replay.listen(path, r));
    const conn = await dialTtrpc(path);
    const task = createTtrpcClient(Task, conn);
    assert.equal((await task.connect({ id: "ttx1" })).shimPid, 14832);
    const kindOfCall = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e) => kindOf(e),
      );
    assert.equal(await kindOfCall(task.state({ id: "nope" })), ErrorKind.NotFound);
    assert.equal(
      await kindOfCall(conn.call(Task.typeName, "Bogus", new Uint8Array())),
      ErrorKind.NotImplemented,
    );
    assert.equal(
      await kindOfCall(conn.call("no.Such", "X", new Uint8Array())),
      ErrorKind.NotImplemented,
    );
    assert.equal(await kindOfCall(task.state({ id: "x" })), ErrorKind.Internal);
    const events = createTtrpcClient(Events, conn);
    assert.equal(
      await kindOfCall(events.forward({ envelope: { topic: "bad topic!" } })),
      ErrorKind.InvalidArgument,
    );
    assert.equal(await kindOfCall(events.forward({ envelope: { topic: "/tasks/exit" } })), "ok");
    conn.close();
  } finally {
    replay.close();
    dir.remove();
  }
});

test("our Events server answers like the real containerd daemon, byte for byte", async () => {
  await withServer(
    Events,
    {
      forward: (req) => {
        const topic = req.envelope?.topic ?? "";
        if (!topic.startsWith("/")) {
          throw errInvalidArgument(
            `envelope topic ${JSON.stringify(topic)}: must start with '/': invalid argument`,
          );
        }
        return {};
      },
    },
    async ({ socketPath }) => {
      const ok = await rawRoundTrip(socketPath, hex(daemon.forwardRequest));
      assert.equal(ok.toString("hex"), daemon.forwardOkResponse);
      const bad = await rawRoundTrip(socketPath, hex(daemon.invalidTopicRequest));
      assert.equal(bad.toString("hex"), daemon.invalidTopicResponse);
    },
  );
});

const skip = realShimUnavailable();

test(
  "live: the real containerd-shim-runc-v2 as server and as client of our Events server",
  { skip },
  async () => {
    const dir = tempDir("ttrpc-real-shim-");
    const ns = `ttrpctest${process.pid}`;
    const id = "c1";
    const daemonAddress = join(dir.path, "containerd.sock");
    const events: { topic: string; ns: string; md?: string[] }[] = [];
    let wake: () => void = () => {};
    const events$ = new TtrpcServer();
    events$.register(Events, {
      forward: (req, ctx) => {
        events.push({
          topic: req.envelope!.topic,
          ns: req.envelope!.namespace,
          md: ctx.metadata.get("containerd-namespace-ttrpc"),
        });
        wake();
        return {};
      },
    });
    const waitForTopic = async (topic: string) => {
      while (!events.some((e) => e.topic === topic)) await new Promise<void>((r) => (wake = r));
    };
    await events$.listen(`${daemonAddress}.ttrpc`);
    const bundle = join(dir.path, "bundle");
    mkdirSync(bundle);
    makeBusyboxBundle(bundle, ["/bin/sleep", "600"]);
    const shim = await startRealShim({ bundle, namespace: ns, id, daemonAddress });
    let shimPid = 0;
    try {
      const conn = await dialTtrpc(shim.address, { timeoutMs: 5000 });
      const task = createTtrpcClient(Task, conn, { timeoutMs: 10_000 });
      shimPid = (await task.connect({ id })).shimPid;
      assert.ok(shimPid > 0);
      await assert.rejects(task.state({ id: "nope" }), (e) => kindOf(e) === ErrorKind.NotFound);
      await assert.rejects(
        conn.call(Task.typeName, "Bogus", new Uint8Array()),
        (e) => kindOf(e) === ErrorKind.NotImplemented,
      );
      const { pid } = await task.create({ id, bundle });
      assert.ok(pid > 0);
      await task.start({ id });
      const st = await task.state({ id });
      assert.equal(st.pid, pid);
      // Concurrent calls on one connection to the Go server.
      const many = await Promise.all(Array.from({ length: 20 }, () => task.state({ id })));
      assert.ok(many.every((s) => s.pid === pid));
      const waited = task.wait({ id });
      await task.kill({ id, signal: 9 });
      assert.equal((await waited).exitStatus, 137);
      await task.delete({ id });
      await task.shutdown({ id });
      await conn.closed;
      for (const t of ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"])
        await waitForTopic(t);
      assert.deepEqual(
        events.map((e) => e.topic),
        ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"],
      );
      assert.ok(events.every((e) => e.ns === ns && e.md?.[0] === ns));
      await shim.gone;
    } finally {
      if (shimPid > 0) {
        spawnSync("runc", ["--root", `/run/containerd/runc/${ns}`, "delete", "--force", id]);
        try {
          process.kill(shimPid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      shim.kill();
      // The shim's runc root for our namespace (empty once the container is deleted).
      rmSync(`/run/containerd/runc/${ns}`, { recursive: true, force: true });
      await events$.close();
      dir.remove();
    }
  },
);
