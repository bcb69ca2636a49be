import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  cgroupDirs,
  hasBusybox,
  isRoot,
  type Json,
  mountsUnder,
  pidAlive,
  readText,
  runcTsSuite,
  waitFor,
} from "./runc-support.js";

const skip = !isRoot ? "needs root" : !hasBusybox ? "needs /bin/busybox" : false;

describe("runc-ts lifecycle on a busybox bundle", { skip }, () => {
  const suite = runcTsSuite("runc-ts-e2e-", "rt");
  const bundle = suite.bundle;

  async function state(id: string): Promise<Json> {
    const r = await suite.rt.run(["state", id]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Json;
  }

  test("run: output and exit code of the container process", async () => {
    const { id, b } = bundle(["sh", "-c", "echo hello; exit 3"]);
    const r = await suite.rt.run(["run", "--bundle", b.dir, id]);
    assert.equal(r.stdout, "hello\n");
    assert.equal(r.code, 3);
    assert.ok(!existsSync(join(suite.rt.root, id)), "run without --keep deletes the container");
  });

  test("pid 1, hostname, env, cwd and user inside", async () => {
    const { id, b } = bundle(
      ["sh", "-c", 'echo "$$ $(hostname) $FOO $(pwd) $(id -u):$(id -g) $(id -G)"'],
      (c) => {
        c.hostname = "boxed";
        c.process.env.push("FOO=bar");
        c.process.cwd = "/tmp";
        c.process.user = { uid: 1000, gid: 1000, additionalGids: [10] };
      },
    );
    const r = await suite.rt.run(["run", "--bundle", b.dir, id]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.trim(), "1 boxed bar /tmp 1000:1000 1000 10");
    assert.equal(r.code, 0);
  });

  test("the root is read-only when root.readonly is set", async () => {
    const { id, b } = bundle(["sh", "-c", "touch /newfile || echo refused"]);
    const r = await suite.rt.run(["run", "--bundle", b.dir, id]);
    assert.match(r.stdout, /refused/);
    assert.ok(!existsSync(join(b.rootfs, "newfile")));
  });

  test("create → created → start → running → kill → stopped → delete leaves nothing", async () => {
    const { id, b } = bundle(["sleep", "1000"]);
    const pidFile = join(b.dir, "init.pid");
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    const created = await suite.rt.run(["create", "--bundle", b.dir, "--pid-file", pidFile, id], {
      files,
    });
    assert.equal(created.code, 0, readText(files.err));
    const pidText = readFileSync(pidFile, "utf8");
    assert.match(pidText, /^\d+$/, "pid file: decimal, no newline");
    const pid = Number(pidText);
    let s = await state(id);
    assert.deepEqual(
      {
        id: s.id,
        pid: s.pid,
        status: s.status,
        bundle: s.bundle,
        rootfs: s.rootfs,
        ociVersion: s.ociVersion,
      },
      { id, pid, status: "created", bundle: b.dir, rootfs: b.rootfs, ociVersion: "1.0.2-dev" },
    );
    assert.match(s.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal((await suite.rt.run(["start", id])).code, 0);
    assert.equal((await state(id)).status, "running");
    const ps = await suite.rt.run(["ps", "--format", "json", id]);
    assert.deepEqual(JSON.parse(ps.stdout), [pid]);
    const list = await suite.rt.run(["list", "--format", "json"]);
    assert.ok(
      (JSON.parse(list.stdout) as Json[]).some((c) => c.id === id && c.status === "running"),
    );
    assert.equal((await suite.rt.run(["kill", id, "KILL"])).code, 0);
    assert.ok(await waitFor(() => !pidAlive(pid)));
    s = await state(id);
    assert.equal(s.status, "stopped");
    assert.equal(s.pid, 0);
    assert.equal((await suite.rt.run(["delete", id])).code, 0);
    assert.ok(!existsSync(join(suite.rt.root, id)), "state dir removed");
    assert.deepEqual(mountsUnder(b.rootfs), [], "no mount left");
    assert.deepEqual(cgroupDirs(`/${id}`), [], "no cgroup left");
    const gone = await suite.rt.run(["state", id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /container does not exist/);
  });

  test("a mount made inside the container is invisible outside", async () => {
    const { id, b } = bundle(
      ["sh", "-c", "mount -t tmpfs tmpfs /tmp && touch /tmp/inside && sleep 1000"],
      (c) => {
        for (const set of ["bounding", "effective", "permitted"])
          c.process.capabilities[set].push("CAP_SYS_ADMIN");
        c.root.readonly = false;
      },
    );
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const s = await state(id);
    assert.ok(
      await waitFor(() => existsSync(`/proc/${s.pid}/root/tmp/inside`)),
      readText(files.err),
    );
    assert.deepEqual(mountsUnder(b.rootfs), [], "the host sees no container mount");
    assert.ok(!existsSync(join(b.rootfs, "tmp", "inside")));
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
    assert.ok(!pidAlive(s.pid));
  });

  test("delete refuses a running container without --force", async () => {
    const { id, b } = bundle(["sleep", "1000"]);
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const r = await suite.rt.run(["delete", id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot delete container .* that is not stopped: running/);
    const pid = (await state(id)).pid as number;
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
    assert.ok(!pidAlive(pid));
    assert.ok(!existsSync(join(suite.rt.root, id)));
  });

  test("pause freezes and resume thaws", async () => {
    const { id, b } = bundle(["sleep", "1000"]);
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const pid = (await state(id)).pid as number;
    assert.equal((await suite.rt.run(["pause", id])).code, 0);
    assert.equal((await state(id)).status, "paused");
    assert.match(readText(`/proc/${pid}/status`), /State:\s+[DST]/);
    assert.equal((await suite.rt.run(["resume", id])).code, 0);
    assert.equal((await state(id)).status, "running");
    assert.equal(
      (await suite.rt.run(["resume", id])).code,
      1,
      "resume of a running container fails",
    );
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
  });

  test("exec into a running container: output, exit code, --detach --pid-file", async () => {
    const { id, b } = bundle(["sleep", "1000"]);
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const r = await suite.rt.run([
      "exec",
      "--env",
      "X=42",
      "--cwd",
      "/tmp",
      id,
      "sh",
      "-c",
      'echo "$X $(pwd) $(hostname)"; ps; exit 5',
    ]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stdout, /^42 \/tmp runc\n/);
    assert.match(
      r.stdout,
      /\n\s+1 root\s+sleep 1000\n/,
      "the exec sees the container's pid namespace",
    );
    const pidFile = join(b.dir, "exec.pid");
    const d = await suite.rt.run(["exec", "--detach", "--pid-file", pidFile, id, "sleep", "1000"], {
      files,
    });
    assert.equal(d.code, 0, readText(files.err));
    const execPid = Number(readFileSync(pidFile, "utf8"));
    assert.ok(pidAlive(execPid));
    const ps = await suite.rt.run(["ps", "-f", "json", id]);
    assert.ok((JSON.parse(ps.stdout) as number[]).includes(execPid), "exec joined the cgroup");
    const table = await suite.rt.run(["ps", id]);
    assert.match(table.stdout, /^UID\s+PID\s+PPID/);
    assert.match(table.stdout, /sleep 1000/);
    assert.equal((await suite.rt.run(["kill", "--all", id, "9"])).code, 0);
    assert.ok(await waitFor(() => !pidAlive(execPid)));
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
  });

  test("kill --all signals every process in the container", async () => {
    const { id, b } = bundle(["sh", "-c", "sleep 1000 & sleep 1000 & wait"], (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((ns: Json) => ns.type !== "pid");
    });
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    let pids: number[] = [];
    assert.ok(
      await waitFor(() => {
        const r =
          readText(join("/sys/fs/cgroup/pids", id, "cgroup.procs")) ||
          readText(join("/sys/fs/cgroup", id, "cgroup.procs"));
        pids = r.split("\n").filter(Boolean).map(Number);
        return pids.length === 3;
      }),
      `3 processes expected, got ${pids}`,
    );
    assert.equal((await suite.rt.run(["kill", "--all", id, "SIGKILL"])).code, 0);
    assert.ok(await waitFor(() => pids.every((p) => !pidAlive(p))));
    assert.equal((await state(id)).status, "stopped");
    assert.equal((await suite.rt.run(["delete", id])).code, 0);
  });

  test("an 8 MB memory limit is in the cgroup and the container still runs", async () => {
    const { id, b } = bundle(
      [
        "sh",
        "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
      ],
      (c) => {
        c.linux.resources.memory = { limit: 8 * 1024 * 1024 };
      },
    );
    const r = await suite.rt.run(["run", "--bundle", b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(8 * 1024 * 1024));
  });

  test("Node's own memory is never charged to the container (init and exec join last)", async () => {
    const { id, b } = bundle(["sleep", "1000"], (c) => {
      c.linux.resources.memory = { limit: 8 * 1024 * 1024 };
    });
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const exec = await suite.rt.run(["exec", id, "sh", "-c", "echo fine"]);
    assert.equal(exec.stdout, "fine\n", exec.stderr);
    const v1 = join("/sys/fs/cgroup/memory", id);
    const peak = Number(
      readText(join(v1, "memory.max_usage_in_bytes")) ||
        readText(join("/sys/fs/cgroup", id, "memory.peak")),
    );
    assert.ok(peak > 0 && peak < 4 * 1024 * 1024, `peak usage ${peak} bytes`);
    assert.equal(readText(join(v1, "memory.failcnt")).trim() || "0", "0");
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
  });

  test("a pids limit stops a fork bomb", async () => {
    const { id, b } = bundle(
      [
        "sh",
        "-c",
        "(i=0; while [ $i -lt 30 ]; do sleep 100 & i=$((i+1)); done) 2>/dev/null; cat /sys/fs/cgroup/pids/pids.current 2>/dev/null || cat /sys/fs/cgroup/pids.current",
      ],
      (c) => {
        c.linux.resources.pids = { limit: 10 };
      },
    );
    const r = await suite.rt.run(["run", "--bundle", b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout.trim()) <= 10, `pids.current ${r.stdout}`);
  });

  test("a bad config.json is refused with the field named, and nothing is created", async () => {
    const { id, b } = bundle(["sh"], (c) => {
      c.process.cwd = "relative/dir";
    });
    const r = await suite.rt.run([
      "--log-format",
      "json",
      "--log",
      join(b.dir, "log.json"),
      "create",
      "--bundle",
      b.dir,
      id,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /process\.cwd/);
    const last = readText(join(b.dir, "log.json")).trim().split("\n").pop()!;
    const entry = JSON.parse(last) as Json;
    assert.equal(entry.level, "error");
    assert.match(entry.msg, /process\.cwd/);
    assert.ok(!existsSync(join(suite.rt.root, id)));
    assert.deepEqual(cgroupDirs(`/${id}`), []);
  });

  test("unknown ids: runc's message and exit 1; delete --force succeeds", async () => {
    for (const args of [
      ["state", "nope"],
      ["start", "nope"],
      ["kill", "nope"],
      ["delete", "nope"],
    ]) {
      const r = await suite.rt.run(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, /container does not exist/);
    }
    assert.equal((await suite.rt.run(["delete", "--force", "nope"])).code, 0);
  });
});
