import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  baseConfig,
  hasBusybox,
  hasRunc,
  isRoot,
  makeBundle,
  pidAlive,
  readText,
  REPO,
  removeTree,
  runtime,
  tempDir,
  waitFor,
  type Json,
  type Result,
  type Runtime,
} from "./runc-support.js";
import { runCommand } from "./commands.js";
import { clearNamespace, removeDaemonLeftovers } from "./leftovers.js";
import { launchContainerd, stopContainerd, writeContainerdConfig } from "./real-containerd.js";

const skip = !isRoot
  ? "needs root"
  : !hasBusybox
    ? "needs /bin/busybox"
    : !hasRunc
      ? "needs runc"
      : false;

/** What a client can observe of one lifecycle, with host-specific values normalized. */
async function lifecycle(rt: Runtime, work: string, id: string): Promise<Json> {
  const b = makeBundle(work, `${rt.name}-${id}`, baseConfig(["sleep", "1000"]));
  const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
  const seen: Json = {};
  const code = (r: Result) => r.code;
  const stateOf = async () => {
    const r = await rt.run(["state", id]);
    const s = JSON.parse(r.stdout) as Json;
    return {
      code: r.code,
      keys: Object.keys(s).sort(),
      status: s.status,
      pidIsInit: s.pid === Number(readText(join(b.dir, "pid"))),
      pidZero: s.pid === 0,
      bundle: s.bundle === b.dir,
      rootfs: s.rootfs === b.rootfs,
      ociVersion: s.ociVersion,
      owner: s.owner,
      indented: r.stdout.startsWith('{\n  "ociVersion"'),
    };
  };
  seen.listEmpty = (await rt.run(["list", "--format", "json"])).stdout;
  seen.create = code(
    await rt.run(["create", "--bundle", b.dir, "--pid-file", join(b.dir, "pid"), id], { files }),
  );
  seen.pidFile = /^\d+$/.test(readText(join(b.dir, "pid")));
  seen.created = await stateOf();
  seen.start = code(await rt.run(["start", id]));
  seen.startAgain = code(await rt.run(["start", id]));
  seen.running = await stateOf();
  const ps = await rt.run(["ps", "--format", "json", id]);
  seen.ps = { code: ps.code, isInit: ps.stdout === `[${readText(join(b.dir, "pid"))}]\n` };
  const list = await rt.run(["list"]);
  seen.listHeader = list.stdout.split("\n")[0]!.split(/\s+/);
  seen.listQuiet = (await rt.run(["list", "-q"])).stdout;
  const exec = await rt.run(["exec", id, "sh", "-c", "echo in; exit 6"]);
  seen.exec = { code: exec.code, stdout: exec.stdout };
  seen.deleteRunning = code(await rt.run(["delete", id]));
  seen.pause = code(await rt.run(["pause", id]));
  seen.paused = (await stateOf()).status;
  seen.resume = code(await rt.run(["resume", id]));
  seen.kill = code(await rt.run(["kill", id, "KILL"]));
  await waitFor(() => !pidAlive(Number(readText(join(b.dir, "pid")))));
  seen.stopped = await stateOf();
  seen.killStopped = code(await rt.run(["kill", id, "KILL"]));
  seen.delete = code(await rt.run(["delete", id]));
  const gone = await rt.run(["state", id]);
  seen.gone = { code: gone.code, message: /container does not exist/.test(gone.stderr) };
  b.write(baseConfig(["sh", "-c", "echo out; echo err >&2; exit 9"]));
  const run2 = await rt.run(["run", "--bundle", b.dir, `${id}-run2`]);
  seen.run = { code: run2.code, stdout: run2.stdout, stderr: run2.stderr };
  // what the process is born with: signals, capabilities, no_new_privs, seccomp mode, rlimit
  b.write(
    baseConfig([
      "sh",
      "-c",
      "grep -E '^(Sig(Ign|Blk)|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status; ulimit -n; echo $$",
    ]),
  );
  const run3 = await rt.run(["run", "--bundle", b.dir, `${id}-run3`]);
  seen.processStatus = { code: run3.code, stdout: run3.stdout };
  // a created container's init dies of SIGTERM (runc's Go init does)
  b.write(baseConfig(["sleep", "1000"]));
  seen.createTerm = code(
    await rt.run(["create", "--bundle", b.dir, "--pid-file", join(b.dir, "pid4"), `${id}-term`], {
      files,
    }),
  );
  seen.killTerm = code(await rt.run(["kill", `${id}-term`, "TERM"]));
  await waitFor(() => !pidAlive(Number(readText(join(b.dir, "pid4")))));
  seen.termStatus = (JSON.parse((await rt.run(["state", `${id}-term`])).stdout) as Json).status;
  seen.deleteTerm = code(await rt.run(["delete", `${id}-term`]));
  return seen;
}

describe("compat: runc-ts and runc give the same observable results", { skip }, () => {
  let work: string;
  before(() => {
    work = tempDir("runc-compat-");
  });
  after(async () => {
    for (const kind of ["runc", "runc-ts"] as const) {
      const rt = runtime(kind, join(work, `${kind}-state`));
      for (const id of ["cmp", "cmp-run2", "cmp-run3", "cmp-term"])
        await rt.run(["delete", "--force", id]);
    }
    removeTree(work);
  });

  test("spec writes the same config.json as runc spec, byte for byte", async () => {
    const ours = join(work, "spec-ours");
    const theirs = join(work, "spec-theirs");
    mkdirSync(ours);
    mkdirSync(theirs);
    assert.equal(
      (await runtime("runc-ts", join(work, "x")).run(["spec", "--bundle", ours])).code,
      0,
    );
    assert.equal(
      (await runtime("runc", join(work, "y")).run(["spec", "--bundle", theirs])).code,
      0,
    );
    assert.equal(
      readFileSync(join(ours, "config.json"), "utf8"),
      readFileSync(join(theirs, "config.json"), "utf8"),
    );
    const again = await runtime("runc-ts", join(work, "x")).run(["spec", "--bundle", ours]);
    assert.equal(again.code, 1, "spec refuses to overwrite");
  });

  test("the same lifecycle on the same kind of bundle", async () => {
    const ours = await lifecycle(runtime("runc-ts", join(work, "runc-ts-state")), work, "cmp");
    const theirs = await lifecycle(runtime("runc", join(work, "runc-state")), work, "cmp");
    assert.deepEqual(ours, theirs);
  });
});

/** The real containerd with its real runc shim, told to use runc-ts with --runc-binary. */
class RealContainerd {
  // made in start(): a skipped or filtered suite must leave no temp dir behind
  dir = "";
  sock = "";
  readonly ns = `runcts${process.pid}`;
  private proc: ChildProcess | undefined;
  private daemonLog: () => string = () => "";
  get log(): string {
    return this.daemonLog();
  }

  async start(): Promise<void> {
    this.dir = tempDir("runc-ts-ctd-");
    this.sock = join(this.dir, "containerd.sock");
    writeContainerdConfig(this.dir, this.sock);
    const d = await launchContainerd(
      this.dir,
      this.sock,
      async () => (await this.ctr(["version"])).code === 0,
    );
    this.proc = d.proc;
    this.daemonLog = d.log;
  }

  ctr(args: string[]): Promise<Result> {
    return runCommand("ctr", ["-a", this.sock, "-n", this.ns, ...args], { timeoutMs: 60_000 });
  }

  async stop(): Promise<void> {
    if (!this.dir) return;
    await clearNamespace((args) => this.ctr(args));
    await stopContainerd(this.proc);
    await removeDaemonLeftovers(this.dir, this.ns);
  }
}

const hasContainerd = ["containerd", "ctr", "containerd-shim-runc-v2"].every(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0,
);

describe(
  "the real containerd + containerd-shim-runc-v2 drive runc-ts (--runc-binary)",
  {
    skip: skip || (!hasContainerd && "needs containerd, ctr and containerd-shim-runc-v2"),
  },
  () => {
    const d = new RealContainerd();
    const runcTs = join(REPO, "node_modules", ".bin", "runc-ts");
    let rootfs: string;
    const run = (id: string, flags: string[], cmd: string[]) =>
      d.ctr(["run", ...flags, "--runc-binary", runcTs, "--rootfs", rootfs, id, ...cmd]);

    before(async () => {
      await d.start();
      rootfs = makeBundle(d.dir, "bundle", baseConfig(["true"])).rootfs;
    });
    after(() => d.stop());

    test("ctr run --rm echo hi", async () => {
      const r = await run("echo1", ["--rm"], ["/bin/echo", "hi"]);
      assert.equal(r.stdout, "hi\n", r.stderr);
      assert.equal(r.code, 0);
    });

    test("ctr run -d, tasks exec, ps, pause/resume, kill, rm", async () => {
      const r = await run("d1", ["-d"], ["/bin/sleep", "1000"]);
      assert.equal(r.code, 0, r.stderr + d.log);
      const exec = await d.ctr([
        "tasks",
        "exec",
        "--exec-id",
        "x1",
        "d1",
        "/bin/sh",
        "-c",
        "echo from exec; exit 4",
      ]);
      assert.equal(exec.stdout, "from exec\n", exec.stderr);
      assert.equal(exec.code, 4);
      const ps = await d.ctr(["tasks", "ps", "d1"]);
      assert.equal(ps.code, 0, ps.stderr);
      const pid = Number(
        readFileSync(
          join(d.dir, "state", "io.containerd.runtime.v2.task", d.ns, "d1", "init.pid"),
          "utf8",
        ),
      );
      assert.match(ps.stdout, new RegExp(`^${pid}\\s`, "m"));
      assert.equal((await d.ctr(["tasks", "pause", "d1"])).code, 0);
      assert.match((await d.ctr(["tasks", "ls"])).stdout, /d1\s+\d+\s+PAUSED/);
      assert.equal((await d.ctr(["tasks", "resume", "d1"])).code, 0);
      assert.match((await d.ctr(["tasks", "ls"])).stdout, /d1\s+\d+\s+RUNNING/);
      assert.equal((await d.ctr(["tasks", "kill", "-s", "SIGKILL", "d1"])).code, 0);
      assert.ok(await waitFor(() => !pidAlive(pid)));
      let rm: Result = { code: 1, stdout: "", stderr: "" };
      for (let i = 0; i < 50 && rm.code !== 0; i++) {
        rm = await d.ctr(["tasks", "rm", "d1"]);
        if (rm.code !== 0) await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await d.ctr(["containers", "rm", "d1"])).code, 0);
    });
  },
);
