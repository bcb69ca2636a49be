import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  Daemon,
  hasCtr,
  hasRuncShim,
  hasTsShim,
  isRoot,
  makeRootfs,
  teardown,
  tempDir,
} from "./tasks-support.js";

/** The real ctr 1.6 against containerd-ts, with the real runc shim and with ours. */

const runtimes = [
  { name: "io.containerd.runc.v2", available: hasRuncShim },
  { name: "io.containerd.ts.v2", available: hasTsShim },
];

for (const rt of runtimes) {
  const skip = !isRoot || !hasCtr || !rt.available ? `needs root, ctr and ${rt.name}` : false;
  describe(`real ctr → containerd-ts → ${rt.name}`, { skip }, () => {
    const ns = `tasks-ctr-${rt.name.split(".")[2]}`;
    let dir = "";
    let rootfs = "";
    let d: Daemon | undefined;
    const ctr = (args: string[], o: { input?: string } = {}) => d!.ctr(args, { ns, ...o });
    const run = (id: string, args: string[], o: { input?: string; flags?: string[] } = {}) =>
      ctr(["run", "--runtime", rt.name, ...(o.flags ?? []), "--rootfs", rootfs, id, ...args], o);

    before(async () => {
      dir = tempDir("ctd-ts-e2e-");
      rootfs = makeRootfs(dir);
      d = new Daemon(dir);
      await d.start();
    });
    after(async () => {
      await teardown(d, dir, ns);
    });

    test("run --rm echo hi", async () => {
      const r = await run("echo-hi", ["/bin/echo", "hi"], { flags: ["--rm"] });
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, "hi\n");
      assert.equal(r.code, 0);
      const ls = await ctr(["containers", "ls", "-q"]);
      assert.doesNotMatch(ls.stdout, /echo-hi/);
    });

    test("exit status travels: sh -c 'exit 7' → 7", async () => {
      const r = await run("exit7", ["/bin/sh", "-c", "exit 7"], { flags: ["--rm"] });
      assert.equal(r.code, 7);
    });

    test("stdin piped in", async () => {
      const r = await run("stdin1", ["/bin/sh", "-c", "read l; echo got-$l"], {
        flags: ["--rm"],
        input: "x\n",
      });
      assert.equal(r.stdout, "got-x\n");
      assert.equal(r.code, 0);
    });

    test("-t gives a tty", async () => {
      // script(1) gives ctr a terminal of its own; the container's stdout must be a pty
      const cmd = [
        "ctr",
        "-a",
        d!.address,
        "-n",
        ns,
        "run",
        "--runtime",
        rt.name,
        "--rm",
        "-t",
        "--rootfs",
        rootfs,
        "tty1",
        "/bin/sh",
        "-c",
        "tty; echo cols=$(stty size)",
      ]
        .map((a) => `'${a}'`)
        .join(" ");
      const out = await new Promise<string>((resolve) => {
        const child = spawn("script", ["-qec", cmd, "/dev/null"], {
          stdio: ["pipe", "pipe", "pipe"],
        });
        let text = "";
        child.stdout.on("data", (b: Buffer) => (text += b.toString()));
        child.stderr.on("data", (b: Buffer) => (text += b.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("close", () => {
          clearTimeout(timer);
          resolve(text);
        });
      });
      assert.match(out, /\/dev\/pts\/\d+/);
    });

    test("detached task: ls, exec, ps, pause/resume, metrics, kill, rm", async () => {
      const id = "detached1";
      const started = await run(id, ["/bin/sleep", "1000"], { flags: ["-d"] });
      assert.equal(started.code, 0, started.stderr);
      let ls = await ctr(["tasks", "ls"]);
      assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));

      const ex = await ctr(["tasks", "exec", "--exec-id", "e1", id, "/bin/ps"]);
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stdout, /sleep 1000/);

      const ps = await ctr(["tasks", "ps", id]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, /^PID/m);
      assert.ok(ps.stdout.trim().split("\n").length >= 2);

      assert.equal((await ctr(["tasks", "pause", id])).code, 0);
      ls = await ctr(["tasks", "ls"]);
      assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+PAUSED`));
      assert.equal((await ctr(["tasks", "resume", id])).code, 0);
      ls = await ctr(["tasks", "ls"]);
      assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));

      const metrics = await ctr(["tasks", "metrics", id]);
      assert.equal(metrics.code, 0, metrics.stderr);
      assert.match(metrics.stdout, new RegExp(id));

      const rmRunning = await ctr(["tasks", "rm", id]);
      assert.notEqual(rmRunning.code, 0);

      assert.equal((await ctr(["tasks", "kill", "-s", "SIGKILL", id])).code, 0);
      for (let i = 0; i < 100; i++) {
        ls = await ctr(["tasks", "ls"]);
        if (/STOPPED/.test(ls.stdout)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
      const rm = await ctr(["tasks", "rm", id]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stderr, /137/);
      const crm = await ctr(["containers", "rm", id]);
      assert.equal(crm.code, 0, crm.stderr);
      assert.doesNotMatch((await ctr(["containers", "ls", "-q"])).stdout, new RegExp(id));
    });

    test("duplicate exec id is refused, unknown container is not found", async () => {
      const id = "dupexec";
      assert.equal((await run(id, ["/bin/sleep", "1000"], { flags: ["-d"] })).code, 0);
      const first = ctr(["tasks", "exec", "--exec-id", "same", id, "/bin/sleep", "5"]);
      await new Promise((r) => setTimeout(r, 1000));
      const second = await ctr(["tasks", "exec", "--exec-id", "same", id, "/bin/true"]);
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /already exists/);
      await ctr(["tasks", "kill", "-a", "-s", "SIGKILL", id]);
      await first;
      await ctr(["tasks", "rm", "-f", id]);
      await ctr(["containers", "rm", id]);
      const missing = await ctr(["tasks", "kill", "nosuchcontainer"]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /not found/);
    });
  });
}
