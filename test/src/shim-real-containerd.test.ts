import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  copyFileSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { clearNamespace, removeDaemonLeftovers } from "./leftovers.js";
import { launchContainerd, stopContainerd, writeContainerdConfig } from "./real-containerd.js";

/**
 * The REAL containerd 1.6 drives containerd-shim-ts-v2 (`--runtime io.containerd.ts.v2`),
 * through the REAL ctr: the shim v2 process contract, the ttrpc Task service, stdio FIFOs,
 * exec, pause/resume, metrics, kill and delete. The runtime under the shim is the real runc,
 * then runc-ts.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(REPO, "node_modules", ".bin");
const isRoot = process.getuid?.() === 0;
const haveTools = ["containerd", "ctr", "runc"].every(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0,
);
const skip = !isRoot
  ? "needs root"
  : !haveTools
    ? "needs containerd, ctr and runc"
    : !existsSync("/bin/busybox")
      ? "needs /bin/busybox"
      : false;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
  });
}

function makeRootfs(dir: string): void {
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc"])
    mkdirSync(join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin", "busybox"));
  spawnSync("chmod", ["755", join(dir, "bin", "busybox")]);
  for (const a of ["sh", "echo", "sleep", "ps", "cat", "true", "id", "head", "tail"])
    symlinkSync("busybox", join(dir, "bin", a));
}

class RealContainerd {
  readonly dir = mkdtempSync(join(tmpdir(), "shim-real-ctd-"));
  readonly sock = join(this.dir, "containerd.sock");
  readonly rootfs = join(this.dir, "rootfs");
  readonly ns = `shimtest${process.pid}`;
  private proc: ChildProcess | undefined;
  private daemonLog: () => string = () => "";
  get log(): string {
    return this.daemonLog();
  }

  constructor(private readonly runtimeBinary: string) {}

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${BIN}:${process.env.PATH}`,
      CONTAINERD_TS_RUNC: this.runtimeBinary,
    };
  }

  async start(): Promise<void> {
    makeRootfs(this.rootfs);
    writeContainerdConfig(this.dir, this.sock);
    await this.launch();
  }

  /** Starts (or restarts) the daemon on the same root, state and socket. */
  async launch(): Promise<void> {
    const d = await launchContainerd(
      this.dir,
      this.sock,
      async () => (await this.ctr(["version"])).code === 0,
      this.env,
    );
    this.proc = d.proc;
    this.daemonLog = d.log;
  }

  /** SIGKILL: the daemon is gone at once, its shims stay. */
  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await exited;
  }

  ctr(args: string[], input?: string): Promise<Result> {
    return run("ctr", ["-a", this.sock, "-n", this.ns, ...args], { input, env: this.env });
  }

  /** ps lines of shims this daemon started (their command lines carry its socket). */
  shims(): string[] {
    const r = spawnSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
    // the long-running shim: the bundle its bin points to, or the unbundled dist/main.js
    const shim = /shim\/dist\/(bundle\/containerd-shim-ts-v2\.cjs|main\.js) /;
    return r.stdout.split("\n").filter((l) => shim.test(l) && l.includes(this.sock));
  }

  async stop(): Promise<void> {
    // remove leftovers first (a failing test may leave a task)
    await clearNamespace((args) => this.ctr(args));
    await stopContainerd(this.proc);
    await removeDaemonLeftovers(this.dir, this.ns);
  }
}

// CONTAINERD_TS_TEST_RUNTIMES="runc" narrows the runtimes under the shim (default: both)
const runtimes = (process.env.CONTAINERD_TS_TEST_RUNTIMES ?? "runc runc-ts")
  .split(/[\s,]+/)
  .filter(Boolean);

for (const runtime of runtimes) {
  describe(`real containerd + ctr → containerd-shim-ts-v2 → ${runtime}`, { skip }, () => {
    const d = new RealContainerd(runtime);
    const runArgs = (id: string, flags: string[], cmd: string[]) => [
      "run",
      ...flags,
      "--runtime",
      "io.containerd.ts.v2",
      "--rootfs",
      d.rootfs,
      id,
      ...cmd,
    ];

    before(() => d.start());
    after(() => d.stop());

    test("run --rm echo hi prints hi and exits 0", async () => {
      const r = await d.ctr(runArgs("echo1", ["--rm"], ["/bin/echo", "hi"]));
      assert.equal(r.stdout, "hi\n", r.stderr);
      assert.equal(r.code, 0);
    });

    test("the exit status reaches ctr", async () => {
      const r = await d.ctr(runArgs("exit7", ["--rm"], ["/bin/sh", "-c", "exit 7"]));
      assert.equal(r.code, 7, r.stderr);
    });

    test("stdin is piped in; /dev/stdout can be reopened; stderr is separate", async () => {
      const r = await d.ctr(
        runArgs(
          "stdin1",
          ["--rm"],
          ["/bin/sh", "-c", "read l; echo got-$l > /dev/stdout; echo err >&2"],
        ),
        "x\n",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "got-x\n");
      assert.match(r.stderr, /err/);
    });

    test("run -d, exec, ps, pause/resume, metrics, kill, rm", async () => {
      const id = "detached1";
      assert.equal((await d.ctr(runArgs(id, ["-d"], ["/bin/sleep", "1000"]))).code, 0);
      assert.match((await d.ctr(["tasks", "ls"])).stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));

      const ex = await d.ctr(["tasks", "exec", "--exec-id", "e1", id, "/bin/echo", "exec-ok"]);
      assert.equal(ex.stdout, "exec-ok\n", ex.stderr);
      assert.equal(ex.code, 0);
      const ex3 = await d.ctr(["tasks", "exec", "--exec-id", "e3", id, "/bin/sh", "-c", "exit 3"]);
      assert.equal(ex3.code, 3);
      const cat = await d.ctr(["tasks", "exec", "--exec-id", "e4", id, "/bin/cat"], "piped\n");
      assert.equal(cat.stdout, "piped\n", "stdin EOF reaches the exec (CloseIO)");

      // a duplicate exec id is refused while the first is alive
      assert.equal(
        (await d.ctr(["tasks", "exec", "-d", "--exec-id", "dup", id, "/bin/sleep", "100"])).code,
        0,
      );
      const dup = await d.ctr(["tasks", "exec", "-d", "--exec-id", "dup", id, "/bin/true"]);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /already exists/);

      // every exec'd process was reaped by the shim (it is their subreaper)
      for (const line of d.shims()) {
        const shimPid = line.trim().split(/\s+/)[0]!;
        const kids = spawnSync("ps", ["-o", "stat=", "--ppid", shimPid], {
          encoding: "utf8",
        }).stdout;
        assert.doesNotMatch(kids, /Z/, "no zombie under the shim");
      }

      const ps = await d.ctr(["tasks", "ps", id]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, /\d+\s+(-|&ProcessDetails|exec_id)/);

      assert.equal((await d.ctr(["tasks", "pause", id])).code, 0);
      assert.match((await d.ctr(["tasks", "ls"])).stdout, /PAUSED/);
      assert.equal((await d.ctr(["tasks", "resume", id])).code, 0);
      assert.match((await d.ctr(["tasks", "ls"])).stdout, /RUNNING/);

      const m = await d.ctr(["tasks", "metrics", id]);
      assert.equal(m.code, 0, m.stderr);
      assert.match(m.stdout, /memory\.usage_in_bytes/);

      assert.equal((await d.ctr(["tasks", "kill", "-s", "KILL", id])).code, 0);
      let ls = "";
      for (let i = 0; i < 100 && !/STOPPED/.test(ls); i++) {
        ls = (await d.ctr(["tasks", "ls"])).stdout;
        if (!/STOPPED/.test(ls)) await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(ls, /STOPPED/);
      const rm = await d.ctr(["tasks", "rm", id]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await d.ctr(["containers", "rm", id])).code, 0);
    });

    test("events arrive in containerd's order, an OOM kill is reported before the exit", async () => {
      const events = spawn("ctr", ["-a", d.sock, "-n", d.ns, "events"], {
        env: d.env,
        stdio: ["ignore", "pipe", "ignore"],
      });
      let out = "";
      events.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      try {
        // the subscription is up once it sees an event of its own namespace
        for (let i = 0; i < 50 && !out.includes('"probe"'); i++) {
          await d.ctr(["containers", "create", "--rootfs", d.rootfs, "probe", "/bin/true"]);
          await new Promise((r) => setTimeout(r, 100));
          await d.ctr(["containers", "rm", "probe"]);
        }
        const r = await d.ctr(
          runArgs(
            "oom1",
            ["--rm", "--memory-limit", String(16 << 20)],
            ["/bin/sh", "-c", "head -c 200000000 /dev/zero | tail -c 100000000 > /dev/null"],
          ),
        );
        assert.equal(r.code, 137, r.stderr);
        for (let i = 0; i < 50 && !out.includes('/tasks/delete {"container_id":"oom1"'); i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const topics = out
          .split("\n")
          .filter((l) => l.includes('"container_id":"oom1"'))
          .map((l) => /\s(\/tasks\/[a-z-]+)\s/.exec(l)?.[1]);
        assert.deepEqual(topics, [
          "/tasks/create",
          "/tasks/start",
          "/tasks/oom",
          "/tasks/exit",
          "/tasks/delete",
        ]);
      } finally {
        events.kill();
      }
    });

    test(
      "-t gives the process a terminal",
      { skip: spawnSync("sh", ["-c", "command -v script"]).status !== 0 && "needs script(1)" },
      async () => {
        const cmd = [
          "ctr",
          "-a",
          d.sock,
          "-n",
          d.ns,
          ...runArgs("tty1", ["--rm", "-t"], ["/bin/sh", "-c", "tty; exit 4"]),
        ].join(" ");
        const r = await run("script", ["-qec", cmd, "/dev/null"], { env: d.env });
        assert.match(r.stdout, /\/dev\/pts\/\d+/);
        assert.equal(r.code, 4);
      },
    );

    test("--log-uri: a logging binary gets fds 3/4/5 and the ids; file:// appends to a file", async () => {
      const logger = join(d.dir, "logger.sh");
      const out = join(d.dir, "logger.out");
      writeFileSync(
        logger,
        [
          "#!/bin/sh",
          `echo "start $CONTAINER_NAMESPACE/$CONTAINER_ID $*" >> ${out}`,
          "exec 5>&-",
          `cat <&3 | sed 's/^/out: /' >> ${out} &`,
          `cat <&4 | sed 's/^/err: /' >> ${out}`,
          "wait",
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
      const cmd = ["/bin/sh", "-c", "echo to-out; echo to-err >&2"];
      const r = await d.ctr(
        runArgs("log1", ["--rm", "--log-uri", `binary://${logger}?flag=v`], cmd),
      );
      assert.equal(r.code, 0, r.stderr);
      for (let i = 0; i < 50 && !/err: to-err/.test(readFileSync(out, "utf8")); i++) {
        await new Promise((res) => setTimeout(res, 100));
      }
      const lines = readFileSync(out, "utf8").split("\n").filter(Boolean).sort();
      assert.deepEqual(lines, ["err: to-err", "out: to-out", `start ${d.ns}/log1 flag v`]);

      const file = join(d.dir, "file.log");
      const f = await d.ctr(runArgs("log2", ["--rm", "--log-uri", `file://${file}`], cmd));
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(readFileSync(file, "utf8").split("\n").filter(Boolean).sort(), [
        "to-err",
        "to-out",
      ]);
    });

    test("containers with the same group annotation share one shim", async () => {
      const group = ["--annotation", "io.containerd.runc.v2.group=grp1", "-d"];
      assert.equal((await d.ctr(runArgs("grp-a", group, ["/bin/sleep", "1000"]))).code, 0);
      assert.equal((await d.ctr(runArgs("grp-b", group, ["/bin/sleep", "1000"]))).code, 0);
      assert.equal(d.shims().length, 1);
      assert.equal((await d.ctr(["tasks", "rm", "-f", "grp-a"])).code, 0);
      assert.equal((await d.ctr(["containers", "rm", "grp-a"])).code, 0);
      // the shim stays for the other container
      const ex = await d.ctr(["tasks", "exec", "--exec-id", "x", "grp-b", "/bin/echo", "alive"]);
      assert.equal(ex.stdout, "alive\n", ex.stderr);
      assert.equal((await d.ctr(["tasks", "rm", "-f", "grp-b"])).code, 0);
      assert.equal((await d.ctr(["containers", "rm", "grp-b"])).code, 0);
    });

    test("checkpoint goes through the runtime; without a working CRIU the error says so", async () => {
      const id = "ckpt1";
      assert.equal((await d.ctr(runArgs(id, ["-d"], ["/bin/sleep", "1000"]))).code, 0);
      const r = await d.ctr(["tasks", "checkpoint", id]);
      if (r.code !== 0) assert.match(r.stderr, /criu/i);
      assert.equal((await d.ctr(["tasks", "rm", "-f", id])).code, 0);
      assert.equal((await d.ctr(["containers", "rm", id])).code, 0);
    });

    test("an exit while the daemon is down waits in the spool and reaches the restarted daemon", async () => {
      const id = "restart1";
      const gate = join(d.rootfs, "tmp", "go");
      rmSync(gate, { force: true });
      const script = "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 4";
      assert.equal((await d.ctr(runArgs(id, ["-d"], ["/bin/sh", "-c", script]))).code, 0);
      const spool = join(d.dir, "state", "io.containerd.runtime.v2.task", d.ns, id, "events.spool");
      await d.kill9();
      writeFileSync(gate, "");
      // the exit (and nothing after it) is queued on disk while nobody listens
      for (let i = 0; i < 100 && !(existsSync(spool) && readFileSync(spool).length > 8); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(readFileSync(spool).length > 8, "TaskExit spooled");
      await d.launch();
      for (let i = 0; i < 100 && readFileSync(spool).length > 8; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(readFileSync(spool).length, 8, "delivered and acknowledged");
      assert.match((await d.ctr(["tasks", "ls"])).stdout, new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
      const rm = await d.ctr(["tasks", "rm", id]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stderr, /exit code 4/);
      assert.equal((await d.ctr(["containers", "rm", id])).code, 0);
      rmSync(gate, { force: true });
    });

    test("10 containers run in parallel, each with its own shim", async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `par${i}`);
      const results = await Promise.all(
        ids.map((id) => d.ctr(runArgs(id, ["--rm"], ["/bin/echo", id]))),
      );
      results.forEach((r, i) => {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${ids[i]}\n`);
      });
    });

    test("no shim is left once every task is gone", async () => {
      for (let i = 0; i < 50 && d.shims().length > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(d.shims(), []);
      // and every shim removed its socket (named as containerd's shims name theirs)
      for (const id of ["echo1", "exit7", "stdin1", "detached1", "oom1", "tty1", "grp1"]) {
        const digest = createHash("sha256").update(`${d.sock}/${d.ns}/${id}`).digest("hex");
        assert.equal(existsSync(join("/run/containerd/s", digest)), false, `socket of ${id}`);
      }
    });
  });
}
