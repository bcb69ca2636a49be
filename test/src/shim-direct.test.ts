import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  constants,
} from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { OptionsSchema } from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import { MetricsSchema } from "@containerd-ts/gen/io/containerd/cgroups/v1/metrics_pb.js";
import { MetricsSchema as MetricsV2Schema } from "@containerd-ts/gen/io/containerd/cgroups/v2/metrics_pb.js";
import {
  Events,
  type Envelope,
} from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { DeleteResponseSchema, Task } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import {
  createTtrpcClient,
  dialTtrpc,
  TtrpcServer,
  type TtrpcConnection,
} from "@containerd-ts/ttrpc";

/**
 * containerd-shim-ts-v2 driven directly over its process contract and ttrpc, the way
 * containerd drives a shim: `start` with the options on stdin, Connect/Create (rootfs from
 * mounts)/State/Start/Wait/Delete/Shutdown, events to a fake daemon's Events.Forward (queued
 * while it is away), and the `delete` action's raw DeleteResponse.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SHIM = join(REPO, "packages", "shim", "dist", "main.js");
const isRoot = process.getuid?.() === 0;
const haveRunc = spawnSync("sh", ["-c", "command -v runc"]).status === 0;
const skip = !isRoot
  ? "needs root"
  : !haveRunc
    ? "needs runc"
    : !existsSync("/bin/busybox")
      ? "needs busybox"
      : false;
const ZERO_TIME = -62135596800n;

function run(
  cmd: string,
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array },
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(o.input ?? new Uint8Array());
  });
}

/** A fake daemon's ttrpc Events service recording what shims forward. */
class FakeEvents {
  readonly envelopes: Array<{ ns: string; env: Envelope }> = [];
  private server: TtrpcServer | undefined;
  constructor(readonly path: string) {}
  async start(): Promise<void> {
    this.server = new TtrpcServer();
    this.server.register(Events, {
      forward: async (req, ctx) => {
        this.envelopes.push({
          ns: ctx.metadata.get("containerd-namespace-ttrpc")?.[0] ?? "",
          env: req.envelope!,
        });
        return {};
      },
    });
    await this.server.listen(this.path);
  }
  async stop(): Promise<void> {
    await this.server?.close();
    rmSync(this.path, { force: true });
  }
  topics(): string[] {
    return this.envelopes.map((e) => e.env.topic);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function makeBundle(bundle: string, args: string[]): void {
  mkdirSync(bundle, { recursive: true });
  const r = spawnSync("runc", ["spec"], { cwd: bundle });
  assert.equal(r.status, 0);
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  spec.process.terminal = false;
  spec.process.args = args;
  spec.root = { path: "rootfs", readonly: false };
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
}

describe("containerd-shim-ts-v2 over its process contract", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "shim-direct-"));
  const sockDir = join(dir, "s");
  const daemonAddress = join(dir, "containerd.sock");
  const events = new FakeEvents(`${daemonAddress}.ttrpc`);
  const ns = "direct";
  const runcRoot = join(dir, "runc");
  const source = join(dir, "busybox-root");
  const env = {
    ...process.env,
    TTRPC_ADDRESS: `${daemonAddress}.ttrpc`,
    CONTAINERD_TS_SHIM_SOCKET_DIR: sockDir,
    CONTAINERD_TS_RUNC: "runc",
  };
  const options = toBinary(
    AnySchema,
    create(AnySchema, {
      typeUrl: "containerd.runc.v1.Options",
      value: toBinary(OptionsSchema, create(OptionsSchema, { root: runcRoot })),
    }),
  );
  const flags = (id: string) => [
    "-namespace",
    ns,
    "-address",
    daemonAddress,
    "-publish-binary",
    "/bin/true",
    "-id",
    id,
  ];

  before(async () => {
    for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc"])
      mkdirSync(join(source, d), { recursive: true });
    copyFileSync("/bin/busybox", join(source, "bin", "busybox"));
    spawnSync("chmod", ["755", join(source, "bin", "busybox")]);
    for (const a of ["sh", "echo", "sleep"]) symlinkSync("busybox", join(source, "bin", a));
    await events.start();
  });

  after(async () => {
    await events.stop();
    spawnSync("sh", ["-c", `grep -o ' ${dir}[^ ]*' /proc/self/mountinfo | xargs -r -n1 umount -l`]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("start → Create (bind-mounted rootfs) → Start → Wait → Delete → Shutdown, events in order", async () => {
    const id = "direct1";
    const bundle = join(dir, "bundles", id);
    makeBundle(bundle, ["/bin/sh", "-c", "echo hi; exit 3"]);
    const fifo = join(dir, `${id}-stdout`);
    spawnSync("mkfifo", [fifo]);

    const started = await run("node", [SHIM, ...flags(id), "start"], {
      cwd: bundle,
      env,
      input: options,
    });
    assert.equal(started.code, 0, started.stderr);
    const address = started.stdout.toString();
    const digest = createHash("sha256").update(`${daemonAddress}/${ns}/${id}`).digest("hex");
    assert.equal(address, `unix://${sockDir}/${digest}`, "printed without a newline");
    assert.equal(readFileSync(join(bundle, "address"), "utf8"), address);

    let conn: TtrpcConnection | undefined;
    try {
      conn = await dialTtrpc(address, { timeoutMs: 5000 });
      const task = createTtrpcClient(Task, conn, { timeoutMs: 60_000 });
      const hello = await task.connect({ id });
      assert.ok(hello.shimPid > 0);
      assert.equal(hello.taskPid, 0);
      assert.equal(kindOf(await task.state({ id }).catch((e) => e)), ErrorKind.NotFound);

      const created = await task.create({
        id,
        bundle,
        rootfs: [{ type: "bind", source, options: ["rbind", "rw"] }],
        stdout: fifo,
      });
      assert.ok(created.pid > 0);
      const out = new Socket({
        fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK),
        readable: true,
        writable: false,
      });
      let text = "";
      out.on("data", (b: Buffer) => (text += b.toString()));
      const ended = new Promise((r) => out.once("end", r));

      const st = await task.state({ id });
      assert.equal(st.status, Status.CREATED);
      assert.equal(st.pid, created.pid);
      assert.equal(st.exitedAt?.seconds, ZERO_TIME);
      assert.equal(
        kindOf(await task.create({ id, bundle }).catch((e) => e)),
        ErrorKind.AlreadyExists,
      );
      assert.equal(
        kindOf(await task.delete({ id, execId: "nope" }).catch((e) => e)),
        ErrorKind.NotFound,
      );

      const waiting = task.wait({ id });
      assert.equal((await task.start({ id })).pid, created.pid);
      const w = await waiting;
      assert.equal(w.exitStatus, 3);
      assert.ok(w.exitedAt && w.exitedAt.seconds > 0n);
      // /tasks/exit was forwarded before Wait answered
      assert.deepEqual(events.topics().slice(0, 3), [
        "/tasks/create",
        "/tasks/start",
        "/tasks/exit",
      ]);
      await ended;
      assert.equal(text, "hi\n");

      const stopped = await task.state({ id });
      assert.equal(stopped.status, Status.STOPPED);
      assert.equal(stopped.exitStatus, 3);
      const del = await task.delete({ id });
      assert.equal(del.exitStatus, 3);
      assert.equal(del.pid, created.pid);
      assert.equal(
        readFileSync("/proc/self/mountinfo", "utf8").includes(join(bundle, "rootfs")),
        false,
        "rootfs unmounted",
      );
      await until(() => events.topics().includes("/tasks/delete"), "/tasks/delete");
      assert.ok(events.envelopes.every((e) => e.ns === ns && e.env.namespace === ns));
      assert.equal(events.envelopes[0]!.env.event!.typeUrl, "containerd.events.TaskCreate");

      await task.shutdown({ id });
      await conn.closed;
      const path = address.slice("unix://".length);
      await until(() => !existsSync(path), "the shim to remove its socket");
    } finally {
      conn?.close();
    }
  });

  test("events wait in the spool while the daemon is away and arrive in order", async () => {
    const id = "direct2";
    const bundle = join(dir, "bundles", id);
    makeBundle(bundle, ["/bin/sleep", "1000"]);
    mkdirSync(join(bundle, "rootfs"));
    spawnSync("mount", ["--rbind", source, join(bundle, "rootfs")]);
    const started = await run("node", [SHIM, ...flags(id), "start"], {
      cwd: bundle,
      env,
      input: options,
    });
    assert.equal(started.code, 0, started.stderr);
    const conn = await dialTtrpc(started.stdout.toString(), { timeoutMs: 5000 });
    try {
      const task = createTtrpcClient(Task, conn, { timeoutMs: 60_000 });
      const before = events.envelopes.length;
      await task.create({ id, bundle });
      await task.start({ id });
      await until(() => events.envelopes.length === before + 2, "create and start events");

      // Update (LinuxResources JSON), Pids and Stats while it runs
      await task.update({
        id,
        resources: {
          typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources",
          value: Buffer.from(JSON.stringify({ memory: { limit: 64 << 20 } })),
        },
      });
      const pids = await task.pids({ id });
      assert.equal(pids.processes.length, 1);
      const stats = await task.stats({ id });
      const limit =
        stats.stats?.typeUrl === "io.containerd.cgroups.v2.Metrics"
          ? fromBinary(MetricsV2Schema, stats.stats.value).memory?.usageLimit
          : fromBinary(MetricsSchema, stats.stats!.value).memory?.usage?.limit;
      assert.equal(limit, BigInt(64 << 20), "the update reached the cgroup");
      assert.equal(kindOf(await task.resume({ id }).catch((e) => e)), ErrorKind.FailedPrecondition);
      await events.stop();
      await task.kill({ id, signal: 9 });
      const w = await task.wait({ id });
      assert.equal(w.exitStatus, 137);
      await task.delete({ id });
      assert.ok(
        readFileSync(join(bundle, "events.spool")).length > 8,
        "exit and delete are spooled",
      );
      await events.start();
      await until(() => events.envelopes.length === before + 4, "the spooled events");
      assert.deepEqual(events.topics().slice(before), [
        "/tasks/create",
        "/tasks/start",
        "/tasks/exit",
        "/tasks/delete",
      ]);
      await task.shutdown({ id });
      await conn.closed;
    } finally {
      conn.close();
      spawnSync("umount", ["-l", join(bundle, "rootfs")]);
    }
  });

  test(
    "start puts the shim into Options.ShimCgroup",
    { skip: !existsSync("/sys/fs/cgroup/memory/cgroup.procs") && "needs cgroup v1 memory" },
    async () => {
      const id = "direct4";
      const bundle = join(dir, "bundles", id);
      makeBundle(bundle, ["/bin/true"]);
      const cg = `/shim-direct-${process.pid}`;
      const cgDir = join("/sys/fs/cgroup/memory", cg);
      mkdirSync(cgDir);
      try {
        const opts = toBinary(
          AnySchema,
          create(AnySchema, {
            typeUrl: "containerd.runc.v1.Options",
            value: toBinary(
              OptionsSchema,
              create(OptionsSchema, { root: runcRoot, shimCgroup: cg }),
            ),
          }),
        );
        const started = await run("node", [SHIM, ...flags(id), "start"], {
          cwd: bundle,
          env,
          input: opts,
        });
        assert.equal(started.code, 0, started.stderr);
        const conn = await dialTtrpc(started.stdout.toString(), { timeoutMs: 5000 });
        const task = createTtrpcClient(Task, conn, { timeoutMs: 10_000 });
        const { shimPid } = await task.connect({ id });
        assert.ok(
          readFileSync(join(cgDir, "cgroup.procs"), "utf8").split("\n").includes(String(shimPid)),
        );
        await task.shutdown({ id });
        await conn.closed;
        conn.close();
        await until(
          () => readFileSync(join(cgDir, "cgroup.procs"), "utf8").trim() === "",
          "the shim to leave",
        );
      } finally {
        spawnSync("rmdir", [cgDir]);
      }
    },
  );

  test("Create from a checkpoint restores on Start through the runtime; a bad image is a clear error", async () => {
    const id = "direct5";
    const bundle = join(dir, "bundles", id);
    makeBundle(bundle, ["/bin/sleep", "1000"]);
    mkdirSync(join(bundle, "rootfs"));
    spawnSync("mount", ["--rbind", source, join(bundle, "rootfs")]);
    const started = await run("node", [SHIM, ...flags(id), "start"], {
      cwd: bundle,
      env,
      input: options,
    });
    assert.equal(started.code, 0, started.stderr);
    const conn = await dialTtrpc(started.stdout.toString(), { timeoutMs: 5000 });
    try {
      const task = createTtrpcClient(Task, conn, { timeoutMs: 60_000 });
      const created = await task.create({ id, bundle, checkpoint: join(dir, "no-such-image") });
      assert.equal(created.pid, 0);
      assert.equal((await task.state({ id })).status, Status.CREATED);
      const err = await task.start({ id }).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(err, "restore of a missing image fails");
      assert.match(err.message, /restore failed/);
      await task.delete({ id });
      await task.shutdown({ id });
      await conn.closed;
    } finally {
      conn.close();
      spawnSync("umount", ["-l", join(bundle, "rootfs")]);
    }
  });

  test("the delete action prints a raw DeleteResponse (137) and cleans the runtime state", async () => {
    const id = "direct3";
    const bundle = join(dir, "bundles", id);
    makeBundle(bundle, ["/bin/sleep", "1000"]);
    writeFileSync(join(bundle, "init.pid"), "4242");
    const r = await run("node", [SHIM, ...flags(id), "-bundle", bundle, "delete"], {
      cwd: bundle,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    const resp = fromBinary(DeleteResponseSchema, r.stdout);
    assert.equal(resp.exitStatus, 137);
    assert.equal(resp.pid, 4242);
    assert.ok(resp.exitedAt && resp.exitedAt.seconds > 0n);
  });
});
