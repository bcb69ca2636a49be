import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { libc, PR_SET_CHILD_SUBREAPER } from "@containerd-ts/sys";
import {
  childrenFromScan,
  childrenFromTasks,
  exitStatusOf,
  Reaper,
  type ExitInfo,
} from "./reaper.js";
import type { ShimSys } from "./sys.js";
import { NodeChildren, nodeChildren, trackedSpawn } from "./tracked-spawn.js";

const asRoot = { skip: process.getuid?.() !== 0 && "needs root" };

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
    new Set([11]),
  );
  const exits = r.reap();
  assert.deepEqual(waited, [10, 12]);
  assert.deepEqual(
    exits.map((e) => e.pid),
    [10, 12],
  );
});

test("a failing exit handler does not lose the other exits of the pass", () => {
  const sys = {
    waitpid: (pid: number) => ({ pid, status: 0, exitCode: 0 }),
  } as unknown as ShimSys;
  const seen: number[] = [];
  const r = new Reaper(
    sys,
    (e) => {
      seen.push(e.pid);
      if (e.pid === 10) throw new Error("boom");
    },
    () => [10, 12],
    new Set(),
  );
  assert.throws(() => r.reap(), /boom/);
  assert.deepEqual(seen, [10, 12]);
});

/** A stand-in ChildProcess: only the pid and the 'exit' event matter to the record. */
function fakeChild(pid: number | undefined): ChildProcess {
  return Object.assign(new EventEmitter(), { pid }) as unknown as ChildProcess;
}

test("tracked children: recorded until Node reports the exit; a reused pid stays recorded", () => {
  const record = new NodeChildren();
  const first = record.track(fakeChild(100));
  record.track(fakeChild(undefined)); // a failed spawn has no pid
  assert.equal(record.size, 1);
  assert.ok(record.has(100));
  // pid 100 exited and was reused by a newer child before the old 'exit' reached us
  const second = record.track(fakeChild(100));
  first.emit("exit", 0, null);
  assert.ok(record.has(100), "the newer child keeps the pid recorded");
  second.emit("exit", 0, null);
  assert.ok(!record.has(100));
  assert.equal(record.size, 0);
});

test("trackedSpawn records the pid at once and forgets it after exit", async () => {
  const child = trackedSpawn("/bin/sh", ["-c", "exit 4"], { stdio: "ignore" });
  assert.ok(child.pid !== undefined && nodeChildren.has(child.pid));
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  assert.equal(code, 4);
  assert.ok(!nodeChildren.has(child.pid));
  const failed = trackedSpawn("/nonexistent/binary", [], { stdio: "ignore" });
  await new Promise((r) => failed.once("error", r));
  assert.equal(failed.pid, undefined);
});

test("children: the threads' lists and a /proc scan agree", async () => {
  const child = trackedSpawn("/bin/sleep", ["30"], { stdio: "ignore" });
  try {
    assert.ok(childrenFromTasks().includes(child.pid!));
    assert.ok(childrenFromScan().includes(child.pid!));
    assert.deepEqual(childrenFromTasks().sort(), childrenFromScan().sort());
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
  }
});

/** Our children that are zombies, from /proc (state Z in /proc/<pid>/stat). */
function zombieChildren(): number[] {
  return childrenFromScan().filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return false;
    }
  });
}

/** Becomes subreaper with a started Reaper for `fn`, then undoes both. */
async function asSubreaper(
  fn: (exits: Map<number, ExitInfo>, waitFor: (pids: number[]) => Promise<void>) => Promise<void>,
): Promise<void> {
  const sys = libc();
  sys.prctl(PR_SET_CHILD_SUBREAPER, 1);
  const exits = new Map<number, ExitInfo>();
  let notify: () => void = () => undefined;
  const reaper = new Reaper(sys, (e) => {
    exits.set(e.pid, e);
    notify();
  });
  const waitFor = async (pids: number[]) => {
    const deadline = Date.now() + 20_000;
    while (pids.some((p) => !exits.has(p)) && Date.now() < deadline)
      await new Promise<void>((r) => ((notify = r), setTimeout(r, 100)));
    assert.deepEqual(
      pids.filter((p) => !exits.has(p)),
      [],
      "every exit reaped",
    );
  };
  reaper.start();
  try {
    await fn(exits, waitFor);
  } finally {
    reaper.stop();
    sys.prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
}

/** Runs a shell script through trackedSpawn; resolves to its pid, exit code and stdout. */
function runShell(script: string): Promise<{ pid: number; code: number | null; out: string }> {
  const child = trackedSpawn("/bin/sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((r) => child.once("close", (code) => r({ pid: child.pid!, code, out })));
}

test(
  "as subreaper: reaps reparented orphans, Node still sees its own child's exit",
  asRoot,
  async () => {
    await asSubreaper(async (exits, waitFor) => {
      // the shell exits at once; its two background children become ours
      const { code, out } = await runShell(
        "(sleep 0.2; exit 3) >/dev/null & echo $!; sleep 30 >/dev/null & echo $!",
      );
      assert.equal(code, 0, "Node saw its own child exit");
      const [exiter, sleeper] = out.trim().split("\n").map(Number);
      process.kill(sleeper!, "SIGKILL");
      await waitFor([exiter!, sleeper!]);
      assert.equal(exits.get(exiter!)?.status, 3);
      assert.equal(exits.get(sleeper!)?.status, 137);
      // and no zombie is left among our children
      assert.deepEqual(zombieChildren(), []);
    });
  },
);

test(
  "as subreaper: a container init left by its runtime is reaped with its status",
  asRoot,
  async () => {
    await asSubreaper(async (exits, waitFor) => {
      // like `runc create`: the runtime forks the init, prints its pid and exits 0
      const { code, out } = await runShell("sleep 30 </dev/null >/dev/null 2>&1 & echo $!");
      assert.equal(code, 0);
      const init = Number(out.trim());
      assert.ok(childrenFromScan().includes(init), "the init was reparented to us");
      assert.ok(!exits.has(init));
      process.kill(init, "SIGTERM");
      await waitFor([init]);
      assert.equal(exits.get(init)!.status, 128 + 15);
      assert.ok(exits.get(init)!.exitedAt instanceof Date);
      assert.ok(!childrenFromScan().includes(init), "no zombie left in /proc");
    });
  },
);

test(
  "as subreaper: concurrent Node spawns keep their exit codes while orphans exit",
  { ...asRoot, timeout: 60_000 },
  async () => {
    await asSubreaper(async (exits, waitFor) => {
      const tracked = nodeChildren.size;
      for (let round = 0; round < 3; round++) {
        // 20 orphans, reparented to us once the shell exits, each blocked on fd 3 until we close it
        const shell = trackedSpawn(
          "/bin/sh",
          ["-c", "for i in $(seq 40 59); do (read x <&3; exit $i) >/dev/null & echo $!; done"],
          { stdio: ["ignore", "pipe", "ignore", "pipe"] },
        );
        // unref'd, and closed on failure: the orphans must never outlive a failed test
        const release = shell.stdio[3] as Socket;
        release.unref();
        try {
          let out = "";
          shell.stdout!.on("data", (d: Buffer) => (out += d.toString()));
          // not 'close': the orphans keep fd 3 open
          await Promise.all([
            new Promise((r) => shell.once("exit", r)),
            new Promise((r) => shell.stdout!.once("end", r)),
          ]);
          const orphans = out.trim().split("\n").map(Number);
          assert.equal(orphans.length, 20);
          // now the orphans all exit while Node's 20 children do
          const spawns = Array.from({ length: 20 }, (_, i) =>
            i % 2 === 0
              ? runShell("/bin/true").then((r) => ({ ...r, want: 0 }))
              : runShell(`exit ${i}`).then((r) => ({ ...r, want: i })),
          );
          release.end();
          for (const r of await Promise.all(spawns)) {
            assert.equal(r.code, r.want, "Node got the right code");
            assert.ok(!exits.has(r.pid), "the reaper took no exit of Node's");
          }
          await waitFor(orphans);
          orphans.forEach((pid, i) => assert.equal(exits.get(pid)?.status, 40 + i));
        } finally {
          release.destroy();
        }
      }
      assert.equal(nodeChildren.size, tracked, "every tracked child forgotten after its exit");
      assert.deepEqual(zombieChildren(), []);
    });
  },
);
