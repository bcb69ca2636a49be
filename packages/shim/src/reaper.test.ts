import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { libc, PR_SET_CHILD_SUBREAPER } from "@containerd-ts/sys";
import { exitStatusOf, Reaper, type ExitInfo } from "./reaper.js";
import type { ShimSys } from "./sys.js";

test("exit status: code, or 128 + signal", () => {
  assert.equal(exitStatusOf({ exitCode: 7 }), 7);
  assert.equal(exitStatusOf({ signal: 9 }), 137);
});

test("never waits on a pid Node owns", () => {
  const waited: number[] = [];
  const sys = {
    waitpid: (pid: number) => (waited.push(pid), { pid, status: 0, exitCode: 0 }),
  } as unknown as ShimSys;
  const r = new Reaper(
    sys,
    () => undefined,
    () => [10, 11, 12],
    () => new Set([11]),
  );
  const exits = r.reap();
  assert.deepEqual(waited, [10, 12]);
  assert.deepEqual(
    exits.map((e) => e.pid),
    [10, 12],
  );
});

test(
  "as subreaper: reaps reparented orphans, Node still sees its own child's exit",
  { skip: process.getuid?.() !== 0 && "needs root" },
  async () => {
    const sys = libc();
    sys.prctl(PR_SET_CHILD_SUBREAPER, 1);
    const exits: ExitInfo[] = [];
    let notify: () => void = () => undefined;
    const reaper = new Reaper(sys, (e) => {
      exits.push(e);
      notify();
    });
    reaper.start();
    try {
      // the shell exits at once; its two background children become ours
      const child = spawn("/bin/sh", ["-c", "(sleep 0.2; exit 3) & echo $!; sleep 30 & echo $!"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
      assert.equal(code, 0, "Node saw its own child exit");
      const [exiter, sleeper] = out.trim().split("\n").map(Number);
      process.kill(sleeper!, "SIGKILL");
      const deadline = Date.now() + 10_000;
      while (exits.length < 2 && Date.now() < deadline)
        await new Promise<void>((r) => ((notify = r), setTimeout(r, 100)));
      const byPid = new Map(exits.map((e) => [e.pid, e.status]));
      assert.equal(byPid.get(exiter!), 3);
      assert.equal(byPid.get(sleeper!), 137);
      // and no zombie is left among our children
      const zombies = execFileSync("/bin/sh", [
        "-c",
        `ps -o pid=,stat= --ppid ${process.pid} | awk '$2 ~ /Z/' || true`,
      ])
        .toString()
        .trim();
      assert.equal(zombies, "");
    } finally {
      reaper.stop();
      sys.prctl(PR_SET_CHILD_SUBREAPER, 0);
    }
  },
);
