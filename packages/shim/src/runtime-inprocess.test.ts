import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kindOf } from "@containerd-ts/errdefs";
import { RuncClient } from "@containerd-ts/runc/client/index.js";
import { defaultSpec } from "@containerd-ts/runc/spec/default.js";
import { InProcessRuntime, inProcessWhenOwn, isOwnRuncTs } from "./runtime-inprocess.js";
import { runcClientFactory, type OciRuntime, type RuntimeConfig } from "./runtime.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const RUNC_TS = join(REPO, "packages", "runc", "dist", "cli", "main.js");
const RUNC_TS_BUNDLE = join(REPO, "packages", "runc", "dist", "bundle", "runc-ts.cjs");
const isRoot = process.getuid?.() === 0;

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function configIn(dir: string, name: string): RuntimeConfig {
  return {
    binary: RUNC_TS,
    root: join(dir, "state"),
    log: join(dir, `${name}.log.json`),
    logFormat: "json",
  };
}

/** Both implementations over the same runc-ts binary, root and log. */
function pair(config: RuntimeConfig): { cli: OciRuntime & RuncClient; ip: InProcessRuntime } {
  const cli = new RuncClient(config);
  return { cli, ip: new InProcessRuntime(config, cli) };
}

/** level and msg of each line of a runc-ts --log file (times differ). */
function logLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const e = JSON.parse(l) as { level: string; msg: string };
      return `${e.level}: ${e.msg}`;
    });
}

type Outcome = { ok: unknown } | { error: { kind: string; message: string; exitCode: unknown } };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await p };
  } catch (e) {
    const err = e as Error & { exitCode?: unknown; command?: unknown };
    return { error: { kind: kindOf(e), message: err.message, exitCode: err.exitCode } };
  }
}

test("isOwnRuncTs: this install's runc-ts by path, by a link on PATH; nothing else", (t) => {
  const dir = tempDir(t, "inproc-own-");
  assert.equal(isOwnRuncTs(RUNC_TS), true);
  symlinkSync(RUNC_TS, join(dir, "runc-ts"));
  assert.equal(isOwnRuncTs("runc-ts", { PATH: `/nonexistent:${dir}` }), true);
  assert.equal(isOwnRuncTs(join(dir, "runc-ts")), true);
  // a copy is another runtime as far as we can tell
  mkdirSync(join(dir, "copy"));
  copyFileSync(RUNC_TS, join(dir, "copy", "runc-ts"));
  chmodSync(join(dir, "copy", "runc-ts"), 0o755);
  assert.equal(isOwnRuncTs("runc-ts", { PATH: join(dir, "copy") }), false);
  assert.equal(isOwnRuncTs("runc-ts", { PATH: "/nonexistent" }), false);
  assert.equal(isOwnRuncTs("/bin/true"), false);
  assert.equal(isOwnRuncTs(join(dir, "missing")), false);
});

test(
  "isOwnRuncTs: the bundle runc-ts's bin points to counts as this install's runc-ts",
  { skip: !existsSync(RUNC_TS_BUNDLE) && "runc-ts not bundled (npm run build bundles it)" },
  () => {
    assert.equal(isOwnRuncTs(RUNC_TS_BUNDLE), true);
  },
);

test("inProcessWhenOwn: runc-ts in process, any other runtime (or systemd cgroups) on the CLI", (t) => {
  const dir = tempDir(t, "inproc-select-");
  const config = configIn(dir, "c");
  const cli = new RuncClient(config);
  assert.ok(inProcessWhenOwn(config, cli) instanceof InProcessRuntime);
  assert.equal(inProcessWhenOwn({ ...config, binary: "/bin/true" }, cli), cli);
  assert.equal(inProcessWhenOwn({ ...config, systemdCgroup: true }, cli), cli);
  assert.equal(inProcessWhenOwn(config, cli, { CONTAINERD_TS_RUNC_INPROCESS: "0" }), cli);
});

test("the shim's runtime factory wraps runc-ts and leaves runc alone", async (t) => {
  const dir = tempDir(t, "inproc-factory-");
  assert.ok((await runcClientFactory(configIn(dir, "c"))) instanceof InProcessRuntime);
  const runc = await runcClientFactory({ ...configIn(dir, "c"), binary: "runc" });
  assert.ok(runc instanceof RuncClient);
});

test("failures equal the CLI's: kind, message, exit code and the --log line", async (t) => {
  const dir = tempDir(t, "inproc-errors-");
  const a = pair(configIn(dir, "cli"));
  const b = pair(configIn(dir, "ip"));
  const calls: [
    string,
    (r: OciRuntime & { state?(id: string): Promise<unknown> }) => Promise<unknown>,
  ][] = [
    ["start", (r) => r.start("nope")],
    ["kill", (r) => r.kill("nope", 15)],
    ["kill --all", (r) => r.kill("nope", 15, { all: true })],
    ["delete", (r) => r.delete("nope")],
    ["delete --force", (r) => r.delete("nope", { force: true })],
    ["resume", (r) => r.resume("nope")],
    ["ps", (r) => r.ps("nope")],
    ["update", (r) => r.update("nope", { pids: { limit: 10 } })],
    ["stats", (r) => r.stats("nope")],
    ["state", (r) => r.state!("nope")],
    ["bad id", (r) => r.kill("../x", 9)],
  ];
  for (const [what, call] of calls) {
    assert.deepEqual(await outcome(call(b.ip)), await outcome(call(a.cli)), what);
  }
  assert.deepEqual(logLines(b.ip.config.log), logLines(a.cli.opts.log!));
  assert.ok(logLines(a.cli.opts.log!).length >= 9);
});

interface Side {
  name: "cli" | "ip";
  runtime: OciRuntime & { state(id: string): Promise<{ status: string }> };
  id: string;
  bundle: string;
  log: string;
}

const CGROUP_PARENT = `inproc-test-${process.pid}`;

function makeBundle(dir: string, id: string, hooks?: Record<string, unknown>): string {
  const bundle = join(dir, id);
  const rootfs = join(bundle, "rootfs");
  mkdirSync(bundle, { recursive: true });
  execFileSync(join(REPO, "scripts", "make-rootfs.sh"), [rootfs], { stdio: "ignore" });
  const spec = defaultSpec() as ReturnType<typeof defaultSpec> & {
    process: { terminal: boolean; args: string[] };
    linux: { cgroupsPath?: string };
    hooks?: Record<string, unknown>;
  };
  spec.process.terminal = false;
  spec.process.args = ["sleep", "1000"];
  spec.linux.cgroupsPath = `/${CGROUP_PARENT}/${id}`;
  if (hooks) spec.hooks = hooks;
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  return bundle;
}

/** The tests' parent cgroup in every hierarchy, with whatever a failed delete left below it. */
function removeCgroupParent(): void {
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const parent = join("/sys/fs/cgroup", h, CGROUP_PARENT);
    if (!existsSync(parent)) continue;
    const dirs = readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory());
    for (const d of [...dirs.map((d) => join(parent, d.name)), parent]) {
      try {
        rmdirSync(d);
      } catch {
        // busy: something outlived its delete; the failing assertion says more
      }
    }
  }
}

/** Every value replaced by its type: stats counters differ between two reads, the shape not. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

async function waitStopped(s: Side): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await s.runtime.state(s.id)).status === "stopped") return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${s.id} did not stop`);
}

test(
  "a container driven in process behaves as one driven by the CLI, step for step",
  { skip: (!isRoot || !existsSync("/bin/busybox")) && "needs root and busybox-static" },
  async (t) => {
    const dir = tempDir(t, "inproc-life-");
    const config = (name: string): RuntimeConfig => configIn(dir, name);
    const sides: Side[] = (["cli", "ip"] as const).map((name) => {
      const c = config(name);
      // one state root: the ids differ, as they would in one namespace
      c.root = join(dir, "state");
      const { cli, ip } = pair(c);
      return {
        name,
        runtime: name === "cli" ? cli : ip,
        id: `c-${name}`,
        bundle: makeBundle(dir, `c-${name}`),
        log: c.log,
      };
    });
    // what the CLI sees of either container
    const observer = new RuncClient({ ...configIn(dir, "observer"), root: join(dir, "state") });
    const cliOf = (_s: Side) => observer;
    // in the body, not t.after: the temp dir (and the state root in it) must outlive this
    const cleanup = async () => {
      for (const s of sides)
        await cliOf(s)
          .delete(s.id, { force: true })
          .catch(() => undefined);
      removeCgroupParent();
    };
    try {
      for (const s of sides) {
        await s.runtime.create(s.id, { bundle: s.bundle, pidFile: join(s.bundle, "init.pid") });
      }

      /** One step on both sides; outcomes (and what the CLI then sees) must match. */
      const step = async (what: string, op: (s: Side) => Promise<unknown>) => {
        const got: unknown[] = [];
        for (const s of sides) {
          const o = await outcome(op(s));
          const seen = await outcome(
            cliOf(s)
              .state(s.id)
              .then((st) => st.status),
          );
          got.push(JSON.parse(JSON.stringify({ o, seen }).replaceAll(s.id, "ID")));
        }
        assert.deepEqual(got[1], got[0], what);
        return got[0];
      };

      const norm = (st: Record<string, unknown>, s: Side) => ({
        ...st,
        id: "ID",
        pid: typeof st.pid,
        bundle: st.bundle === s.bundle ? "BUNDLE" : st.bundle,
        rootfs: st.rootfs === join(s.bundle, "rootfs") ? "ROOTFS" : st.rootfs,
        created: typeof st.created,
      });
      await step("state (created)", async (s) =>
        norm((await s.runtime.state(s.id)) as unknown as Record<string, unknown>, s),
      );
      assert.deepEqual(
        await (sides[1]!.runtime as InProcessRuntime).state(sides[1]!.id),
        await cliOf(sides[1]!).state(sides[1]!.id),
        "in-process state = CLI state",
      );
      await step("start", (s) => s.runtime.start(s.id));
      await step("start again", (s) => s.runtime.start(s.id));
      await step("ps", async (s) => (await s.runtime.ps(s.id)).length);
      const ipSide = sides[1]!;
      assert.deepEqual(await ipSide.runtime.ps(ipSide.id), await cliOf(ipSide).ps(ipSide.id));
      await step("resume while running", (s) => s.runtime.resume(s.id));
      await step("pause", (s) => s.runtime.pause(s.id));
      await step("kill while paused", (s) => s.runtime.kill(s.id, 10));
      await step("delete while paused", (s) => s.runtime.delete(s.id));
      await step("resume", (s) => s.runtime.resume(s.id));
      await step("kill --all TERM (pid 1 ignores it)", (s) =>
        s.runtime.kill(s.id, 15, { all: true }),
      );
      await step("update", async (s) => {
        await s.runtime.update(s.id, { pids: { limit: 64 }, cpu: { shares: 512 } });
        const state = JSON.parse(readFileSync(join(dir, "state", s.id, "state.json"), "utf8")) as {
          config: { resources: unknown };
          cgroupPaths: Record<string, string>;
        };
        const pids = state.cgroupPaths.pids ?? state.cgroupPaths[""];
        const max = pids ? readFileSync(join(pids, "pids.max"), "utf8").trim() : "?";
        return { resources: state.config.resources, max };
      });
      await step("stats", async (s) => shape(await s.runtime.stats(s.id)));
      await step("kill KILL", (s) => s.runtime.kill(s.id, 9));
      for (const s of sides) await waitStopped(s);
      await step("kill after exit", (s) => s.runtime.kill(s.id, 15));
      await step("delete", (s) => s.runtime.delete(s.id));
      await step("delete again", (s) => s.runtime.delete(s.id));
      await step("delete --force of nothing", (s) => s.runtime.delete(s.id, { force: true }));
      assert.deepEqual(
        logLines(sides[1]!.log),
        logLines(sides[0]!.log).map((l) => l.replaceAll("c-cli", "c-ip")),
      );
      for (const s of sides) assert.equal(existsSync(join(dir, "state", s.id)), false);
    } finally {
      await cleanup();
    }
  },
);

test(
  "start waits for a slow startContainer hook without stalling the shim's event loop",
  { skip: (!isRoot || !existsSync("/bin/busybox")) && "needs root and busybox-static" },
  async (t) => {
    const dir = tempDir(t, "inproc-hook-");
    const config = configIn(dir, "hook");
    const { cli, ip } = pair(config);
    const id = "slow-hook";
    // startContainer hooks run in the container, between start opening the fifo and the write
    const bundle = makeBundle(dir, id, {
      startContainer: [{ path: "/bin/sleep", args: ["sleep", "0.4"] }],
    });
    try {
      await cli.create(id, { bundle, pidFile: join(bundle, "init.pid") });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        await ip.start(id);
      } finally {
        clearInterval(timer);
      }
      assert.equal((await cli.state(id)).status, "running");
      // the hook's 0.4 s passed with the loop turning (a blocking read leaves ticks at 0-3)
      assert.ok(ticks >= 10, `event loop ticks during start: ${ticks}`);
    } finally {
      // in the body, not t.after: the temp dir (and the state root in it) must outlive this
      await cli.delete(id, { force: true }).catch(() => undefined);
      removeCgroupParent();
    }
  },
);
