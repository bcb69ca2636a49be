/** Our client against the real containerd daemon's ttrpc Events service on `<address>.ttrpc`. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { Events } from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { TaskExitSchema } from "@containerd-ts/gen/containerd/events/task_pb.js";
import { createTtrpcClient } from "./client.js";
import { dialTtrpc } from "./client-connection.js";
import { tempDir } from "./fixtures/harness.js";
import { which } from "./fixtures/real-shim.js";

const skip =
  process.getuid?.() !== 0
    ? "needs root"
    : !which("containerd") || !which("ctr")
      ? "containerd/ctr not on PATH"
      : undefined;

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill("SIGTERM");
  await once(p, "exit");
}

test(
  "live: Forward to the real containerd is accepted and reaches its subscribers; errors map to kinds",
  { skip },
  async () => {
    const dir = tempDir("ttrpc-real-containerd-");
    const address = join(dir.path, "containerd.sock");
    const config = join(dir.path, "config.toml");
    writeFileSync(
      config,
      [
        "version = 2",
        `root = "${join(dir.path, "root")}"`,
        `state = "${join(dir.path, "state")}"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
        "[grpc]",
        `  address = "${address}"`,
      ].join("\n") + "\n",
    );
    let daemon: ChildProcess | undefined;
    let subscriber: ChildProcess | undefined;
    try {
      daemon = spawn("containerd", ["--config", config], { stdio: "ignore" });
      for (let i = 0; i < 1000 && !existsSync(`${address}.ttrpc`); i++) await sleep(10);
      assert.ok(existsSync(`${address}.ttrpc`), "containerd never served its ttrpc socket");

      subscriber = spawn("ctr", ["--address", address, "events"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let seen = "";
      const sawExit = new Promise<void>((resolve) =>
        subscriber!.stdout!.on("data", (d: Buffer) => {
          seen += d.toString();
          if (seen.includes("/tasks/exit")) resolve();
        }),
      );

      const conn = await dialTtrpc(`unix://${address}.ttrpc`, { timeoutMs: 5000 });
      const events = createTtrpcClient(Events, conn, {
        timeoutMs: 5000,
        metadata: { "containerd-namespace-ttrpc": "ttrpclive" },
      });
      const exit = create(TaskExitSchema, { containerId: "c9", id: "c9", pid: 77, exitStatus: 3 });
      const envelope = {
        timestamp: { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: 0 },
        namespace: "ttrpclive",
        topic: "/tasks/exit",
        event: { typeUrl: "containerd.events.TaskExit", value: toBinary(TaskExitSchema, exit) },
      };
      // The subscription may not be registered yet when we forward: retry until ctr prints it.
      let delivered = false;
      void sawExit.then(() => (delivered = true));
      for (let i = 0; i < 200 && !delivered; i++) {
        await events.forward({ envelope });
        await Promise.race([sawExit, sleep(50)]);
      }
      assert.ok(delivered, `ctr events never showed the event: ${seen}`);
      assert.match(seen, /ttrpclive \/tasks\/exit .*"exit_status":3/);

      await assert.rejects(
        events.forward({ envelope: { ...envelope, topic: "bad topic!" } }),
        (e) => kindOf(e) === ErrorKind.InvalidArgument,
      );
      await assert.rejects(
        conn.call(Events.typeName, "Bogus", new Uint8Array()),
        (e) => kindOf(e) === ErrorKind.NotImplemented,
      );
      await assert.rejects(
        conn.call(Events.typeName, "Forward", Buffer.from([0xff])),
        (e) => kindOf(e) === ErrorKind.Internal,
      );
      // (Never send Forward without an envelope: containerd 1.6.20 dereferences it and panics.)
      conn.close();
      await conn.closed;
    } finally {
      await stop(subscriber);
      await stop(daemon);
      dir.remove();
    }
  },
);
