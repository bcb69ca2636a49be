import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { OptionsSchema } from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import { CTR_TS, eventually, runProcess, type RunResult } from "./ctr-harness.js";
import { baseConfig, cgroupDirs, hasRunc, makeBundle, RUNC_TS_MAIN } from "./runc-support.js";
import {
  Daemon,
  hasCtr,
  hasRuncShim,
  hasTsShim,
  isRoot,
  makeRootfs,
  mountsUnder,
  pidsMentioning,
  teardown,
  tempDir,
} from "./tasks-support.js";

/**
 * Checkpoint and restore end to end with CRIU ≥ 4: a busybox shell loop counts in memory and
 * appends the count to a file in its rootfs; after `tasks checkpoint --exit` and `tasks
 * restore` the count goes on from where it was, not from 1. Runs through containerd-ts with the
 * real runc shim and real runc, with our shim and real runc, and with our shim and runc-ts; then
 * runc-ts and the real runc on their own command lines.
 *
 * In CI (CI set) a missing or broken CRIU fails these tests; elsewhere they are skipped.
 */

function criuVersion(binary: string): number[] | undefined {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8" });
  const m = /Version: (\d+)\.(\d+)/.exec(r.stdout ?? "");
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const version = criuVersion("criu");
const criuUsable =
  version !== undefined && version[0]! >= 4 && spawnSync("criu", ["check"]).status === 0;
const inCI = Boolean(process.env.CI);
const missing = !isRoot ? "needs root" : !criuUsable && !inCI ? "needs criu >= 4 (criu check)" : "";

const RUNC_OPTIONS = "containerd.runc.v1.Options";

interface Variant {
  title: string;
  runtime: string;
  /** BinaryName for the shim ("" = its default) */
  binary: string;
  available: boolean;
  /**
   * How the task gets its stdio: ctr-ts's FIFOs, or none. The runc shim copies FIFOs through
   * pipes, which runc re-wires on restore; our shim hands the FIFOs themselves to the container:
   * runc-ts dumps them as CRIU external files and re-wires them, the real runc cannot.
   */
  stdio: "fifo" | "null";
}

const VARIANTS: Variant[] = [
  {
    title: "runc shim + runc",
    runtime: "io.containerd.runc.v2",
    binary: "",
    available: hasRuncShim,
    stdio: "fifo",
  },
  {
    title: "ts shim + runc",
    runtime: "io.containerd.ts.v2",
    binary: "runc",
    available: hasTsShim,
    stdio: "null",
  },
  {
    title: "ts shim + runc-ts",
    runtime: "io.containerd.ts.v2",
    binary: "",
    available: hasTsShim,
    stdio: "fifo",
  },
];

/**
 * The loop appends: CRIU checks the size of a file a process has open (the loop may be inside
 * `echo` when dumped) unless it is write-only + append, and the tests rewrite the file before a
 * restore. sh as pid 1 ignores SIGTERM: the suites kill with SIGKILL.
 */
const LOOP = "i=0\nwhile true; do i=$((i+1)); echo $i >> /count-$1; sleep 0.1; done\n";

/** The last count the loop appended (0 before it wrote any). */
function readCount(rootfs: string, id: string): number {
  try {
    const lines = readFileSync(join(rootfs, `count-${id}`), "utf8")
      .trim()
      .split("\n");
    return Number(lines[lines.length - 1]) || 0;
  } catch {
    return 0;
  }
}

/** Runtime state dirs (runc and runc-ts) that name the container. */
function runtimeStateOf(ns: string, id: string): string[] {
  return [join("/run/containerd/runc", ns, id)].filter((p) => existsSync(p));
}

function criuProcesses(dir: string): number[] {
  return pidsMentioning("criu").filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
    } catch {
      return false;
    }
  });
}

/** A CRIU that cannot work: what a criu too old for the kernel does, in any environment. */
function brokenCriu(dir: string): string {
  const path = join(dir, "criu-broken");
  writeFileSync(
    path,
    [
      "#!/bin/sh",
      'if [ "$1" = "--version" ]; then echo "Version: 3.17.1"; exit 0; fi',
      'echo "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" >&2',
      "exit 1",
      "",
    ].join("\n"),
  );
  chmodSync(path, 0o755);
  return path;
}

function tasksClient(address: string, ns: string) {
  const sessionManager = new Http2SessionManager(
    "http://localhost",
    {},
    { createConnection: () => net.connect(address) },
  );
  const transport = createGrpcTransport({
    baseUrl: "http://localhost",
    sessionManager,
    interceptors: [
      (next) => (req) => {
        req.header.set("containerd-namespace", ns);
        return next(req);
      },
    ],
  });
  return { tasks: createClient(Tasks, transport), close: () => sessionManager.abort() };
}

test(
  "criu >= 4 is installed and `criu check` passes",
  { skip: !isRoot || (!inCI && !criuUsable) },
  () => {
    assert.ok(version, "criu is not on PATH (scripts/install-criu.sh installs it)");
    assert.ok(
      version[0]! >= 4,
      `criu ${version.join(".")} is too old: run scripts/install-criu.sh`,
    );
    assert.equal(spawnSync("criu", ["check"]).status, 0, "criu check fails");
  },
);

for (const v of VARIANTS) {
  const skip = missing || (!v.available ? `needs ${v.runtime}` : !hasCtr ? "needs ctr" : false);
  describe(`checkpoint/restore with ${v.title}`, { skip }, () => {
    const ns = `ckpt-${v.binary || "default"}-${v.runtime.split(".")[2]}-${process.pid}`;
    let dir = "";
    let rootfs = "";
    let daemon: Daemon;
    const ctr = (args: string[]): Promise<RunResult> =>
      runProcess(process.execPath, [CTR_TS, "-a", daemon.address, "-n", ns, ...args]);
    const ok = async (args: string[]): Promise<RunResult> => {
      const r = await ctr(args);
      assert.equal(r.code, 0, `ctr-ts ${args.join(" ")}: ${r.stderr}${r.stdout}`);
      return r;
    };
    /** The counting loop as a new container's task, with the variant's stdio (or `o`'s). */
    const startLoop = async (id: string, o: { stdio?: "fifo" | "null"; criu?: string } = {}) => {
      await ok([
        "containers",
        "create",
        "--runtime",
        v.runtime,
        ...(v.binary ? ["--runc-binary", v.binary] : []),
        "--rootfs",
        rootfs,
        id,
        "/bin/sh",
        "/loop.sh",
        id,
      ]);
      if ((o.stdio ?? v.stdio) === "fifo" && !o.criu) {
        await ok(["tasks", "start", "-d", id]);
        return;
      }
      const { tasks, close } = tasksClient(daemon.address, ns);
      try {
        const options = create(OptionsSchema, { binaryName: v.binary, criuPath: o.criu ?? "" });
        await tasks.create({
          containerId: id,
          options: { typeUrl: RUNC_OPTIONS, value: toBinary(OptionsSchema, options) },
        });
        await tasks.start({ containerId: id });
      } finally {
        close();
      }
    };
    const status = async (id: string) =>
      (await ok(["tasks", "ls"])).stdout
        .split("\n")
        .find((l) => l.startsWith(`${id} `))
        ?.trim()
        .split(/\s+/)[2];
    /** Polls `tasks ls` until the task has `want` (a generous give-up, no timing asserted). */
    const statusBecomes = async (id: string, want: string) => {
      let last: string | undefined;
      for (let i = 0; i < 200 && (last = await status(id)) !== want; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(last, want, `task ${id}`);
    };
    const remove = async (id: string) => {
      await ok(["tasks", "kill", "-s", "SIGKILL", id]);
      await statusBecomes(id, "STOPPED");
      await ok(["tasks", "rm", id]);
      await ok(["containers", "rm", id]);
      assert.deepEqual(runtimeStateOf(ns, id), [], "runtime state left behind");
    };

    /** A checkpoint that must fail: CRIU named in the error, no image dir, the task still up. */
    const checkpointRefused = async (id: string) => {
      await eventually(() => readCount(rootfs, id) >= 1, "the loop to count");
      const images = join(dir, `images-${id}`);
      const r = await ctr(["tasks", "checkpoint", "--exit", "--image-path", images, id]);
      assert.notEqual(r.code, 0, "the checkpoint succeeded");
      assert.match(r.stderr, /criu/i, r.stderr);
      assert.ok(!existsSync(images), "a failed checkpoint left its image dir");
      assert.equal(await status(id), "RUNNING");
    };

    before(async () => {
      assert.ok(criuUsable, "criu >= 4 with a passing `criu check` is required (CI)");
      dir = tempDir("ctd-ts-ckpt-");
      rootfs = makeRootfs(dir);
      writeFileSync(join(rootfs, "loop.sh"), LOOP);
      daemon = new Daemon(dir);
      await daemon.start();
    });
    after(async () => {
      await teardown(daemon, dir, ns);
    });

    test("checkpoint --exit, then restore: the count goes on from memory", async () => {
      const id = "c1";
      await startLoop(id);
      await eventually(() => readCount(rootfs, id) >= 3, "the loop to count");
      const images = join(dir, "images-c1");
      await ok(["tasks", "checkpoint", "--exit", "--image-path", images, id]);
      assert.ok(readdirSync(images).includes("inventory.img"), "no CRIU image written");
      await statusBecomes(id, "STOPPED");
      const atCheckpoint = readCount(rootfs, id);
      assert.ok(atCheckpoint >= 3);
      await ok(["tasks", "rm", id]);
      // the file forgets the count; only the restored memory knows it
      writeFileSync(join(rootfs, `count-${id}`), "0\n");
      await ok(["tasks", "restore", "-d", "--image-path", images, id]);
      assert.equal(await status(id), "RUNNING");
      await eventually(() => readCount(rootfs, id) !== 0, "the restored loop to write");
      assert.ok(
        readCount(rootfs, id) > atCheckpoint,
        `restored count ${readCount(rootfs, id)} does not continue from ${atCheckpoint}`,
      );
      // the restored task is an ordinary one: ps, kill, delete
      const ps = await ok(["tasks", "ps", id]);
      assert.match(ps.stdout, /\d+/);
      await remove(id);
      assert.deepEqual(criuProcesses(dir), []);
    });

    test("checkpoint without --exit leaves the task running", async () => {
      const id = "c2";
      await startLoop(id);
      await eventually(() => readCount(rootfs, id) >= 2, "the loop to count");
      const images = join(dir, "images-c2");
      const args = [
        "tasks",
        "checkpoint",
        "--image-path",
        images,
        "--work-path",
        join(dir, "w2"),
        id,
      ];
      if (v.runtime === "io.containerd.runc.v2") {
        // the real ctr 1.6 sends runc's CheckpointOptions only for the runc runtimes
        const r = await daemon.ctr(args, { ns });
        assert.equal(r.code, 0, `ctr ${args.join(" ")}: ${r.stderr}`);
      } else await ok(args);
      assert.ok(existsSync(join(images, "inventory.img")));
      assert.ok(existsSync(join(dir, "w2", "dump.log")), "the work path holds CRIU's log");
      assert.equal(await status(id), "RUNNING");
      const before = readCount(rootfs, id);
      await eventually(() => readCount(rootfs, id) > before, "the loop to go on");
      await remove(id);
    });

    test("a broken criu fails the checkpoint clearly and leaves nothing behind", async () => {
      const id = "c3";
      await startLoop(id, { criu: brokenCriu(dir) });
      await checkpointRefused(id);
      assert.deepEqual(criuProcesses(dir), []);
      await remove(id);
      assert.deepEqual(mountsUnder(join(dir, "state")), []);
    });

    // only where the variant's own stdio is not FIFOs: those already copy them through pipes
    // (runc shim) or dump them as external files (runc-ts)
    if (v.stdio !== "fifo")
      test("the real runc refuses FIFO stdio handed to the container clearly; the task keeps running", async () => {
        const id = "c4";
        await startLoop(id, { stdio: "fifo" });
        await checkpointRefused(id);
        await remove(id);
      });
  });
}

/**
 * The runtime on its own, runc's default config (a cgroup mount, masked paths): runc-ts side by
 * side with the real runc. stdio is /dev/null throughout (both reopen it inside the container).
 */
for (const kind of ["runc-ts", "runc"] as const) {
  const skip = missing || (kind === "runc" && !hasRunc ? "needs runc" : false);
  describe(`${kind} checkpoint/restore on the command line`, { skip }, () => {
    const cgroupParent = `ckpt-cli-${kind}-${process.pid}`;
    let dir = "";
    let root = "";
    let bundle = "";
    let rootfs = "";
    const argv = (args: string[]) => [
      ...(kind === "runc" ? ["runc"] : [process.execPath, RUNC_TS_MAIN]),
      "--root",
      root,
      "--log",
      join(dir, "runtime.log"),
      ...args,
    ];
    /** Runs the runtime with no stdio of ours (a detached container keeps what it is given). */
    const rt = (args: string[]) => {
      const [cmd, ...rest] = argv(args);
      const r = spawnSync(cmd!, rest, { stdio: "ignore", cwd: bundle });
      return r.status;
    };
    const ok = (args: string[]) => {
      const code = rt(args);
      const log = existsSync(join(dir, "runtime.log"))
        ? readFileSync(join(dir, "runtime.log"), "utf8")
        : "";
      assert.equal(code, 0, `${kind} ${args.join(" ")}: ${log.split("\n").slice(-3).join("\n")}`);
    };
    const stateOf = (id: string): { status: string; pid: number } | undefined => {
      const [cmd, ...rest] = argv(["state", id]);
      const r = spawnSync(cmd!, rest, { encoding: "utf8" });
      return r.status === 0 ? (JSON.parse(r.stdout) as { status: string; pid: number }) : undefined;
    };
    const count = (id: string) => readCount(rootfs, id);

    before(() => {
      assert.ok(criuUsable, "criu >= 4 with a passing `criu check` is required (CI)");
      dir = tempDir(`ctd-ts-ckpt-cli-${kind}-`);
      root = join(dir, "state");
      const config = baseConfig(["/bin/sh", "/loop.sh", "cli"]);
      config.root.readonly = false;
      config.linux.cgroupsPath = `/${cgroupParent}/cli`;
      const b = makeBundle(dir, "bundle", config);
      bundle = b.dir;
      rootfs = b.rootfs;
      writeFileSync(join(rootfs, "loop.sh"), LOOP);
    });
    after(() => {
      for (const id of ["cli-a", "cli-b"]) rt(["delete", "--force", id]);
      for (const d of cgroupDirs(`/${cgroupParent}`)) {
        try {
          rmdirSync(d);
        } catch {
          // still in use: reported by the tests
        }
      }
      for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length))
        spawnSync("umount", ["-l", m]);
      rmSync(dir, { recursive: true, force: true });
    });

    test("checkpoint destroys the container; restore -d brings it back with its memory", async () => {
      ok(["run", "-d", "cli-a"]);
      await eventually(() => count("cli") >= 3, "the loop to count");
      ok([
        "checkpoint",
        "--image-path",
        join(dir, "img"),
        "--work-path",
        join(dir, "work"),
        "cli-a",
      ]);
      assert.equal(stateOf("cli-a"), undefined, "checkpoint without --leave-running keeps it");
      assert.deepEqual(cgroupDirs(`/${cgroupParent}/cli`), []);
      const atCheckpoint = count("cli");
      writeFileSync(join(rootfs, "count-cli"), "0\n");
      const pidFile = join(dir, "restored.pid");
      ok([
        "restore",
        "-d",
        "--image-path",
        join(dir, "img"),
        "--work-path",
        join(dir, "work"),
        "--bundle",
        bundle,
        "--pid-file",
        pidFile,
        "cli-a",
      ]);
      const st = stateOf("cli-a");
      assert.equal(st?.status, "running");
      assert.equal(st?.pid, Number(readFileSync(pidFile, "utf8")));
      await eventually(() => count("cli") !== 0, "the restored loop to write");
      assert.ok(count("cli") > atCheckpoint, `${count("cli")} does not go on from ${atCheckpoint}`);
      assert.ok(cgroupDirs(`/${cgroupParent}/cli`).length > 0, "restored outside its cgroup");
      ok(["kill", "cli-a", "KILL"]);
      await eventually(() => stateOf("cli-a")?.status === "stopped", "the kill");
      ok(["delete", "cli-a"]);
      assert.equal(stateOf("cli-a"), undefined);
      assert.deepEqual(cgroupDirs(`/${cgroupParent}/cli`), []);
      assert.deepEqual(mountsUnder(dir), []);
    });

    // runc-ts only: the real runc's foreground restore stalled inside criu swrk on this
    // machine (not investigated; listed in the closing note)
    const foregroundTest = kind === "runc-ts" ? test : () => undefined;
    foregroundTest(
      "restore in the foreground waits and exits with the container's status",
      async () => {
        writeFileSync(join(rootfs, "count-cli"), "0\n");
        ok(["run", "-d", "cli-b"]);
        await eventually(() => count("cli") >= 1, "the loop to count");
        const images = join(dir, "img-fg");
        ok(["checkpoint", "--image-path", images, "cli-b"]);
        const [cmd, ...rest] = argv([
          "restore",
          "--image-path",
          images,
          "--bundle",
          bundle,
          "cli-b",
        ]);
        const child = spawn(cmd!, rest, { stdio: "ignore", cwd: bundle });
        const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
        await eventually(() => stateOf("cli-b")?.status === "running", "the restore");
        ok(["kill", "cli-b", "KILL"]);
        assert.equal(await exited, 137);
        assert.equal(stateOf("cli-b"), undefined, "a foreground restore deletes its container");
        assert.deepEqual(cgroupDirs(`/${cgroupParent}/cli`), []);
      },
    );
  });
}
