import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { renameSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import {
  ContainerdError,
  ErrorKind,
  errAlreadyExists,
  errFailedPrecondition,
  errNotFound,
  kindOf,
} from "@containerd-ts/errdefs";
import { Task } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import { createTtrpcClient } from "./client.js";
import { dialTtrpc } from "./client-connection.js";
import { MAX_PAYLOAD_LENGTH } from "./frame.js";
import type { TtrpcCallContext } from "./registry.js";
import { TtrpcServer } from "./server.js";
import { tempDir, withServer } from "./fixtures/harness.js";

const isKind = (kind: ErrorKind) => (err: unknown) => {
  assert.equal(kindOf(err), kind, `expected ${kind}, got ${String(err)}`);
  return true;
};

test("unary round trip with nested messages, enums and timestamps", async () => {
  await withServer(
    Task,
    {
      state: (req) => ({
        id: req.id,
        bundle: `/b/${req.id}`,
        pid: 42,
        status: Status.RUNNING,
        exitedAt: { seconds: -62135596800n, nanos: 0 },
      }),
      create: (req) => ({ pid: req.rootfs.length * 100 + (req.terminal ? 1 : 0) }),
    },
    async ({ client }) => {
      const st = await client.state({ id: "c1" });
      assert.equal(st.id, "c1");
      assert.equal(st.bundle, "/b/c1");
      assert.equal(st.pid, 42);
      assert.equal(st.status, Status.RUNNING);
      assert.equal(st.exitedAt?.seconds, -62135596800n);
      const cr = await client.create({
        id: "c1",
        terminal: true,
        rootfs: [{ type: "overlay", source: "o", options: ["a"] }],
      });
      assert.equal(cr.pid, 101);
    },
  );
});

test("metadata: client defaults, per-call values, repeated values and the timeout reach the handler", async () => {
  let seen: TtrpcCallContext | undefined;
  await withServer(
    Task,
    {
      connect: (_req, ctx) => {
        seen = ctx;
        return {};
      },
    },
    async ({ conn }) => {
      const client = createTtrpcClient(Task, conn, {
        metadata: { "containerd-namespace-ttrpc": "ns1", a: "default" },
        timeoutMs: 5000,
      });
      await client.connect({ id: "x" }, { metadata: { a: ["1", "2"], "Mixed-Case": "v" } });
      assert.deepEqual(seen?.metadata.get("containerd-namespace-ttrpc"), ["ns1"]);
      assert.deepEqual(seen?.metadata.get("a"), ["1", "2"]);
      assert.deepEqual(seen?.metadata.get("mixed-case"), ["v"]);
      assert.equal(seen?.timeoutMs, 5000);
      assert.equal(seen?.fullMethod, "/containerd.task.v2.Task/Connect");
      assert.equal(seen?.signal.aborted, false);
      await client.connect({ id: "x" }, { timeoutMs: 1234 });
      assert.equal(seen?.timeoutMs, 1234);
      await createTtrpcClient(Task, conn).connect({ id: "x" });
      assert.equal(seen?.timeoutMs, undefined);
      assert.equal(seen?.metadata.size, 0);
    },
  );
});

test("many concurrent calls on one connection complete out of order, each with its own answer", async () => {
  const gates = new Map<number, () => void>();
  const arrived: number[] = [];
  let allArrived: () => void = () => {};
  const ready = new Promise<void>((r) => (allArrived = r));
  const N = 64;
  await withServer(
    Task,
    {
      pids: async (req) => {
        const n = Number(req.id);
        arrived.push(n);
        if (arrived.length === N) allArrived();
        await new Promise<void>((r) => gates.set(n, r));
        return { processes: [{ pid: n }] };
      },
    },
    async ({ client }) => {
      const calls = Array.from({ length: N }, (_, i) => client.pids({ id: String(i) }));
      await ready; // every call is in flight at the same time
      for (let i = N - 1; i >= 0; i--) gates.get(i)!();
      const results = await Promise.all(calls);
      results.forEach((r, i) => assert.equal(r.processes[0]?.pid, i));
    },
  );
});

test("client stream ids are odd and increase 1, 3, 5", async () => {
  const dir = tempDir();
  const ids: number[] = [];
  const raw: Server = createServer((s) =>
    s.on("data", (d: Buffer) => {
      for (let off = 0; off < d.length; ) {
        const len = d.readUInt32BE(off);
        const id = d.readUInt32BE(off + 4);
        ids.push(id);
        // Answer OK with an empty payload.
        s.write(Buffer.from("00000000" + id.toString(16).padStart(8, "0") + "0200", "hex"));
        off += 10 + len;
      }
    }),
  );
  const path = join(dir.path, "raw.sock");
  try {
    await new Promise<void>((r) => raw.listen(path, r));
    const conn = await dialTtrpc(`unix://${path}`);
    const client = createTtrpcClient(Task, conn);
    await client.shutdown({ id: "a" });
    await Promise.all([client.shutdown({ id: "b" }), client.shutdown({ id: "c" })]);
    assert.deepEqual(ids, [1, 3, 5]);
    conn.close();
    await conn.closed;
  } finally {
    raw.close();
    dir.remove();
  }
});

test("timeout: the client gets DeadlineExceeded and the handler's signal is aborted", async () => {
  let handlerSignal: AbortSignal | undefined;
  let aborted!: Promise<void>;
  await withServer(
    Task,
    {
      wait: (_req, ctx) => {
        handlerSignal = ctx.signal;
        aborted = new Promise((r) => ctx.signal.addEventListener("abort", () => r()));
        return new Promise(() => {}); // never answers on its own
      },
      state: (req) => ({ id: req.id }),
    },
    async ({ client }) => {
      await assert.rejects(
        client.wait({ id: "x" }, { timeoutMs: 30 }),
        isKind(ErrorKind.DeadlineExceeded),
      );
      await aborted;
      assert.equal(handlerSignal?.aborted, true);
      // The connection is still usable afterwards.
      assert.equal((await client.state({ id: "after" })).id, "after");
    },
  );
});

test("caller abort gives Canceled", async () => {
  await withServer(Task, { wait: () => new Promise(() => {}) }, async ({ client }) => {
    const ac = new AbortController();
    const p = client.wait({ id: "x" }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, isKind(ErrorKind.Canceled));
    await assert.rejects(
      client.wait({ id: "x" }, { signal: ac.signal }),
      isKind(ErrorKind.Canceled),
    );
  });
});

test("handler errors travel as gRPC codes and come back as the same kinds", async () => {
  const byId: Record<string, () => never> = {
    nf: () => {
      throw errNotFound("container not created: not found");
    },
    ae: () => {
      throw errAlreadyExists("exists");
    },
    fp: () => {
      throw errFailedPrecondition("running");
    },
    ia: () => {
      throw new ContainerdError(ErrorKind.InvalidArgument, "bad");
    },
    un: () => {
      throw new ContainerdError(ErrorKind.Unavailable, "down");
    },
    plain: () => {
      throw new Error("boom");
    },
    enoent: () => {
      throw Object.assign(new Error("open x: no such file"), { code: "ENOENT" });
    },
    string: () => {
      throw "str";
    },
  };
  await withServer(Task, { state: (req) => byId[req.id]!() }, async ({ client }) => {
    const expect: Record<string, ErrorKind> = {
      nf: ErrorKind.NotFound,
      ae: ErrorKind.AlreadyExists,
      fp: ErrorKind.FailedPrecondition,
      ia: ErrorKind.InvalidArgument,
      un: ErrorKind.Unavailable,
      plain: ErrorKind.Unknown,
      enoent: ErrorKind.NotFound,
      string: ErrorKind.Unknown,
    };
    for (const [id, kind] of Object.entries(expect)) {
      await assert.rejects(client.state({ id }), isKind(kind));
    }
    await assert.rejects(
      client.state({ id: "nf" }),
      (e: Error) => e.message === "container not created: not found",
    );
  });
});

test("unknown service, unknown method and unimplemented method are 12; a bad payload is 13", async () => {
  await withServer(Task, { state: (req) => ({ id: req.id }) }, async ({ conn, client }) => {
    await assert.rejects(
      conn.call("no.Such", "X", new Uint8Array()),
      isKind(ErrorKind.NotImplemented),
    );
    await assert.rejects(
      conn.call("containerd.task.v2.Task", "Bogus", new Uint8Array()),
      isKind(ErrorKind.NotImplemented),
    );
    await assert.rejects(client.pause({ id: "x" }), isKind(ErrorKind.NotImplemented));
    await assert.rejects(
      conn.call("containerd.task.v2.Task", "State", Buffer.from([0xff, 0xff])),
      isKind(ErrorKind.Internal),
    );
    // None of these hurt the connection.
    assert.equal((await client.state({ id: "ok" })).id, "ok");
  });
});

test("a request above 4 MiB is refused with ResourceExhausted; just below is served", async () => {
  await withServer(
    Task,
    { state: (req) => ({ id: String(req.id.length) }) },
    async ({ client }) => {
      const big = "x".repeat(MAX_PAYLOAD_LENGTH);
      await assert.rejects(client.state({ id: big }), isKind(ErrorKind.ResourceExhausted));
      const fits = "x".repeat(MAX_PAYLOAD_LENGTH - 200);
      assert.equal((await client.state({ id: fits })).id, String(fits.length));
    },
  );
});

test("server close fails in-flight calls with Unavailable and resolves conn.closed", async () => {
  await withServer(
    Task,
    { wait: () => new Promise(() => {}) },
    async ({ server, conn, client }) => {
      const pending = assert.rejects(client.wait({ id: "x" }), isKind(ErrorKind.Unavailable));
      await new Promise((r) => setImmediate(r));
      await server.close();
      await pending;
      await conn.closed;
      await assert.rejects(client.wait({ id: "x" }), isKind(ErrorKind.Unavailable));
    },
  );
});

test("dialing nothing is Unavailable", async () => {
  const dir = tempDir();
  try {
    await assert.rejects(dialTtrpc(join(dir.path, "none.sock")), isKind(ErrorKind.Unavailable));
    writeFileSync(join(dir.path, "file"), "");
    await assert.rejects(
      dialTtrpc(`unix://${join(dir.path, "file")}`),
      isKind(ErrorKind.Unavailable),
    );
  } finally {
    dir.remove();
  }
});

test("listen replaces a stale socket, refuses a live one, applies the mode", async () => {
  const dir = tempDir();
  const path = join(dir.path, "sub", "s.sock");
  const a = new TtrpcServer();
  const b = new TtrpcServer();
  try {
    await a.listen(path, 0o600);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(b.listen(path), (e: NodeJS.ErrnoException) => e.code === "EADDRINUSE");
    // A socket file left behind by a dead process is replaced.
    const stale = join(dir.path, "stale.sock");
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(stale, r));
    renameSync(stale, stale + ".keep");
    await new Promise<void>((r) => dead.close(() => r()));
    renameSync(stale + ".keep", stale);
    await b.listen(stale);
  } finally {
    await a.close();
    await b.close();
    dir.remove();
  }
});

test("checkPeer sees the peer's SO_PEERCRED and can refuse it", async () => {
  const creds: { pid: number; uid: number; gid: number }[] = [];
  await withServer(
    Task,
    { state: (req) => ({ id: req.id }) },
    async ({ client }) => {
      assert.equal((await client.state({ id: "me" })).id, "me");
      assert.deepEqual(creds, [
        { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() },
      ]);
    },
    { checkPeer: (c) => (creds.push(c), true) },
  );
  await withServer(
    Task,
    { state: (req) => ({ id: req.id }) },
    async ({ client, errors }) => {
      await assert.rejects(client.state({ id: "me" }), isKind(ErrorKind.Unavailable));
      assert.equal(errors.length, 1);
    },
    { checkPeer: () => false },
  );
});

test("serveFd serves a listening socket inherited from the parent", async () => {
  const dir = tempDir();
  const path = join(dir.path, "inherited.sock");
  const listener = createServer();
  await new Promise<void>((r) => listener.listen(path, r));
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  const script = fileURLToPath(new URL("./fixtures/fd-server.js", import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit", fd] });
  try {
    await once(child.stdout!, "data"); // "ready"
    // Stop the parent's own listener without unlinking the path the child now serves.
    renameSync(path, path + ".moved");
    await new Promise<void>((r) => listener.close(() => r()));
    renameSync(path + ".moved", path);
    const conn = await dialTtrpc(path);
    const st = await createTtrpcClient(Task, conn).state({ id: "via-fd" });
    assert.equal(st.id, "via-fd");
    assert.equal(st.pid, child.pid);
    conn.close();
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit").catch(() => {});
    dir.remove();
  }
});
