import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { RuncClient } from "./runc-client.js";
import { RuncError } from "./errors.js";
import { FakeRunc } from "./fixtures/fake-runc.js";

async function withFake(
  fn: (fake: FakeRunc, client: RuncClient, paths: { root: string; log: string }) => Promise<void>,
) {
  const fake = new FakeRunc();
  const root = join(fake.dir, "root");
  const log = join(fake.dir, "log.json");
  try {
    await fn(fake, new RuncClient({ binary: fake.binary, root, log, logFormat: "json" }), {
      root,
      log,
    });
  } finally {
    fake.remove();
  }
}

test("create: global flags first, go-runc's flag order, cwd = bundle, no NOTIFY_SOCKET, fds passed as-is", async () => {
  await withFake(async (fake, client, { root, log }) => {
    fake.answer("create", { stdout: "from-runtime\n" });
    const bundle = fake.dir;
    const outFile = join(fake.dir, "stdout.txt");
    const extraFile = join(fake.dir, "extra.txt");
    const out = openSync(outFile, "w");
    const extra = openSync(extraFile, "w");
    process.env.NOTIFY_SOCKET = "/run/systemd/notify";
    try {
      await client.create("c1", {
        bundle,
        pidFile: "init.pid",
        consoleSocket: "/run/console.sock",
        noPivot: true,
        noNewKeyring: true,
        io: { stdout: out },
        extraFds: [extra],
      });
    } finally {
      delete process.env.NOTIFY_SOCKET;
      closeSync(out);
      closeSync(extra);
    }
    const call = fake.lastCall();
    assert.deepEqual(call.argv, [
      "--root",
      root,
      "--log",
      log,
      "--log-format",
      "json",
      "create",
      "--bundle",
      bundle,
      "--pid-file",
      join(process.cwd(), "init.pid"),
      "--console-socket",
      "/run/console.sock",
      "--no-pivot",
      "--no-new-keyring",
      "--preserve-fds",
      "1",
      "c1",
    ]);
    assert.equal(call.cwd, bundle);
    assert.equal(call.env.has("NOTIFY_SOCKET"), false);
    assert.equal(call.fd3, extraFile);
    assert.equal(readFileSync(outFile, "utf8"), "from-runtime\n");
  });
});

test("optional global flags: --debug, --criu, --systemd-cgroup in go-runc's order; minimal create", async () => {
  const fake = new FakeRunc();
  try {
    const client = new RuncClient({
      binary: fake.binary,
      root: "/r",
      debug: true,
      criu: "/usr/sbin/criu",
      systemdCgroup: true,
    });
    await client.create("x", { bundle: fake.dir, pidFile: "/b/init.pid" });
    assert.deepEqual(fake.lastCall().argv, [
      "--root",
      "/r",
      "--debug",
      "--criu",
      "/usr/sbin/criu",
      "--systemd-cgroup",
      "create",
      "--bundle",
      fake.dir,
      "--pid-file",
      "/b/init.pid",
      "x",
    ]);
  } finally {
    fake.remove();
  }
});

test("each command's argv", async () => {
  await withFake(async (fake, client, { root, log }) => {
    const g = ["--root", root, "--log", log, "--log-format", "json"];
    fake.answer("ps", { stdout: "[1,23]\n" });
    fake.answer("list", { stdout: "null\n" });
    await client.start("c1");
    assert.deepEqual(fake.lastCall().argv, [...g, "start", "c1"]);
    await client.kill("c1", 9);
    assert.deepEqual(fake.lastCall().argv, [...g, "kill", "c1", "9"]);
    await client.kill("c1", 15, { all: true });
    assert.deepEqual(fake.lastCall().argv, [...g, "kill", "--all", "c1", "15"]);
    await client.delete("c1");
    assert.deepEqual(fake.lastCall().argv, [...g, "delete", "c1"]);
    await client.delete("c1", { force: true });
    assert.deepEqual(fake.lastCall().argv, [...g, "delete", "--force", "c1"]);
    await client.pause("c1");
    assert.deepEqual(fake.lastCall().argv, [...g, "pause", "c1"]);
    await client.resume("c1");
    assert.deepEqual(fake.lastCall().argv, [...g, "resume", "c1"]);
    assert.deepEqual(await client.ps("c1"), [1, 23]);
    assert.deepEqual(fake.lastCall().argv, [...g, "ps", "--format", "json", "c1"]);
    assert.deepEqual(await client.list(), []);
    assert.deepEqual(fake.lastCall().argv, [...g, "list", "--format=json"]);
    await client.checkpoint("c1", {
      imagePath: "/img",
      workPath: "/work",
      allowOpenTcp: true,
      allowTerminal: true,
      fileLocks: true,
      cgroupsMode: "soft",
      emptyNamespaces: ["network"],
      leaveRunning: true,
    });
    assert.deepEqual(fake.lastCall().argv, [
      ...g,
      "checkpoint",
      "--image-path",
      "/img",
      "--work-path",
      "/work",
      "--tcp-established",
      "--shell-job",
      "--file-locks",
      "--manage-cgroups-mode",
      "soft",
      "--empty-ns",
      "network",
      "--leave-running",
      "c1",
    ]);
    assert.equal(
      await client.restore("c1", {
        imagePath: "/img",
        bundle: fake.dir,
        pidFile: "/b/init.pid",
        detach: true,
        noSubreaper: true,
        noPivot: true,
      }),
      0,
    );
    assert.deepEqual(fake.lastCall().argv, [
      ...g,
      "restore",
      "--image-path",
      "/img",
      "--detach",
      "--pid-file",
      "/b/init.pid",
      "--no-pivot",
      "-no-subreaper",
      "--bundle",
      fake.dir,
      "c1",
    ]);
    assert.equal(fake.lastCall().cwd, fake.dir);
  });
});

test("state and list parse the runtime's JSON", async () => {
  await withFake(async (fake, client) => {
    const st = {
      ociVersion: "1.0.2-dev",
      id: "c1",
      pid: 42,
      status: "running",
      bundle: "/b",
      rootfs: "/b/rootfs",
      created: "2026-01-01T00:00:00Z",
      owner: "",
    };
    fake.answer("state", { stdout: JSON.stringify(st, null, 2) });
    fake.answer("list", { stdout: JSON.stringify([st]) });
    assert.deepEqual(await client.state("c1"), st);
    assert.deepEqual(await client.list(), [st]);
    fake.answer("state", { stdout: "not json" });
    await assert.rejects(client.state("c1"), (e) => kindOf(e) === ErrorKind.Internal);
  });
});

test("exec writes the process JSON to a --process file and passes --detach and an absolute pid file", async () => {
  await withFake(async (fake, client, { root, log }) => {
    const proc = {
      args: ["/bin/ps"],
      cwd: "/",
      env: ["PATH=/bin"],
      terminal: false,
      user: { uid: 0, gid: 0 },
    };
    await client.exec("c1", proc, { pidFile: "/b/e1.pid", detach: true, consoleSocket: "/s.sock" });
    const call = fake.lastCall();
    const file = call.argv[call.argv.indexOf("--process") + 1]!;
    assert.deepEqual(call.argv, [
      "--root",
      root,
      "--log",
      log,
      "--log-format",
      "json",
      "exec",
      "--process",
      file,
      "--console-socket",
      "/s.sock",
      "--detach",
      "--pid-file",
      "/b/e1.pid",
      "c1",
    ]);
    assert.deepEqual(JSON.parse(call.processFile!), proc);
    assert.throws(() => readFileSync(file), /ENOENT/); // removed afterwards
  });
});

test("update sends the resources as JSON on stdin; stats returns the data of one events --stats line", async () => {
  await withFake(async (fake, client, { root, log }) => {
    const g = ["--root", root, "--log", log, "--log-format", "json"];
    await client.update("c1", { memory: { limit: 1048576 }, cpu: { shares: 512 } });
    assert.deepEqual(fake.lastCall().argv, [...g, "update", "--resources", "-", "c1"]);
    assert.deepEqual(JSON.parse(fake.lastCall().stdin!), {
      memory: { limit: 1048576 },
      cpu: { shares: 512 },
    });
    fake.answer("events", {
      stdout: JSON.stringify({ type: "stats", id: "c1", data: { pids: { current: 3 } } }) + "\n",
    });
    assert.deepEqual(await client.stats("c1"), { pids: { current: 3 } });
    assert.deepEqual(fake.lastCall().argv, [...g, "events", "--stats", "c1"]);
  });
});

test("failures carry the last error msg of the log written by this command", async () => {
  await withFake(async (fake, client, { log }) => {
    writeFileSync(
      log,
      JSON.stringify({ level: "error", msg: "an older failure", time: "t" }) + "\n",
    );
    fake.answer("start", {
      exitCode: 1,
      logLine: [
        JSON.stringify({ level: "warning", msg: "meh", time: "t" }),
        JSON.stringify({ level: "error", msg: "first", time: "t" }),
        JSON.stringify({
          level: "error",
          msg: "cannot start a container that has stopped",
          time: "t",
        }),
      ].join("\n"),
    });
    await assert.rejects(client.start("c1"), (e) => {
      assert.ok(e instanceof RuncError);
      assert.equal(e.message, "cannot start a container that has stopped");
      assert.equal(e.kind, ErrorKind.Unknown);
      assert.equal(e.exitCode, 1);
      assert.equal(e.command, "start");
      return true;
    });
    // No new log line: the output explains it, never the older failure.
    fake.answer("pause", { exitCode: 1, stderr: "pause failed badly\n" });
    await assert.rejects(client.pause("c1"), (e: Error) => e.message === "pause failed badly");
  });
});

test("kill failures meaning 'already gone' are NotFound; 'does not exist' is NotFound anywhere", async () => {
  await withFake(async (fake, client) => {
    for (const msg of ["container not running", "no such process", "container does not exist"]) {
      fake.answer("kill", {
        exitCode: 1,
        logLine: JSON.stringify({ level: "error", msg, time: "t" }),
      });
      await assert.rejects(
        client.kill("c1", 15),
        (e) => kindOf(e) === ErrorKind.NotFound && (e as Error).message === msg,
      );
    }
    fake.answer("kill", {
      exitCode: 1,
      logLine: JSON.stringify({ level: "error", msg: "permission denied", time: "t" }),
    });
    await assert.rejects(client.kill("c1", 15), (e) => kindOf(e) === ErrorKind.Unknown);
    // runc without --log prints logfmt on stderr.
    fake.answer("state", {
      exitCode: 1,
      stderr: 'time="2026-11-28T12:50:41Z" level=error msg="container does not exist"\n',
    });
    await assert.rejects(
      client.state("nope"),
      (e) =>
        kindOf(e) === ErrorKind.NotFound && (e as Error).message === "container does not exist",
    );
  });
});

test("a missing binary is a RuncError, not a crash", async () => {
  const client = new RuncClient({ binary: "/nonexistent/runc", root: "/tmp/x" });
  await assert.rejects(client.start("c1"), (e) => e instanceof RuncError && e.exitCode === null);
});

test("every command starts the runtime through the spawn the options give", async () => {
  const fake = new FakeRunc();
  try {
    const started: string[][] = [];
    const client = new RuncClient({
      binary: fake.binary,
      root: join(fake.dir, "root"),
      spawn: (command, args, options) => {
        started.push([...args]);
        return spawn(command, args, options);
      },
    });
    fake.answer("state", { stdout: '{"id":"c1","pid":1,"status":"running"}' });
    await client.start("c1");
    await client.state("c1");
    await client.version();
    assert.deepEqual(
      started.map((a) => a.find((x) => ["start", "state", "--version"].includes(x))),
      ["start", "state", "--version"],
    );
  } finally {
    fake.remove();
  }
});
