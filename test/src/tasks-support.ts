import { after, before, describe } from "node:test";
import { spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, type CommandResult } from "./commands.js";
import { spawnContainerdTs } from "./containerd-ts.js";
import { REPO, stopDaemon, testPath, waitUntilUp } from "./daemon-process.js";
import { clearNamespace, removeDaemonLeftovers } from "./leftovers.js";

export { DAEMON_MAIN } from "./containerd-ts.js";
export { REPO, testPath } from "./daemon-process.js";
export { mountsUnder, removeCgroups, shimPidsUnder } from "./leftovers.js";

/** Helpers of the tasks e2e tests: a containerd-ts daemon on a temp root, the real ctr. */

export const isRoot = process.getuid?.() === 0;
export const hasCtr = spawnSync("ctr", ["--version"]).status === 0;
export const hasRuncShim =
  spawnSync("sh", ["-c", "command -v containerd-shim-runc-v2"]).status === 0;
export const hasTsShim =
  spawnSync("sh", ["-c", "command -v containerd-shim-ts-v2"], {
    env: { ...process.env, PATH: testPath() },
  }).status === 0;

export type CtrResult = CommandResult;

export class Daemon {
  proc: ChildProcess | undefined;
  readonly address: string;
  readonly root: string;
  readonly state: string;
  log = "";

  constructor(readonly dir: string) {
    this.address = join(dir, "containerd.sock");
    this.root = join(dir, "root");
    this.state = join(dir, "state");
  }

  async start(): Promise<void> {
    rmSync(this.address, { force: true });
    const proc = spawnContainerdTs({
      address: this.address,
      root: this.root,
      state: this.state,
      onOutput: (text) => (this.log += text),
    }).proc;
    this.proc = proc;
    const isUp = async () => (await this.ctr(["version"])).code === 0;
    await waitUntilUp({ proc, log: () => this.log }, this.address, isUp);
  }

  /** SIGKILL (crash) or SIGTERM (clean stop), waiting for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await stopDaemon(this.proc, { signal });
  }

  ctr(
    args: string[],
    o: { input?: string; ns?: string; timeoutMs?: number } = {},
  ): Promise<CtrResult> {
    return runCtr(["-a", this.address, "-n", o.ns ?? "default", ...args], o);
  }
}

export function runCtr(
  args: string[],
  o: { input?: string; timeoutMs?: number } = {},
): Promise<CtrResult> {
  return runCommand("ctr", args, { input: o.input, timeoutMs: o.timeoutMs ?? 60_000 });
}

export function makeRootfs(dir: string): string {
  const rootfs = join(dir, "rootfs");
  execFileSync(join(REPO, "scripts", "make-rootfs.sh"), [rootfs], { stdio: "ignore" });
  return rootfs;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Pids whose command line mentions `needle` (shims and containers started for a test dir). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

export function zombiesUnder(ppids: number[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" && ppids.includes(Number(fields[1]))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Cgroup dirs named after a namespace (runc's `/<ns>/<id>`), in every v1 hierarchy and v2. */
export function cgroupsOf(ns: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const d = join("/sys/fs/cgroup", h, ns);
    if (existsSync(d)) {
      for (const child of readdirSync(d, { withFileTypes: true })) {
        if (child.isDirectory()) out.push(join(d, child.name));
      }
    }
  }
  return out;
}

/**
 * Teardown that never throws: kill what the daemon left running (the shims we caused and
 * their containers), stop the daemon, unmount, remove cgroups and the temp dir.
 */
export async function teardown(d: Daemon | undefined, dir: string, ns: string): Promise<void> {
  if (d) {
    await clearNamespace((args) => d.ctr(args, { ns, timeoutMs: 10_000 }));
    await d.stop("SIGTERM").catch(() => {});
  }
  await removeDaemonLeftovers(dir, ns);
}

/** The runtimes every tasks e2e suite runs with: the real runc shim and ours. */
export const RUNTIMES = [
  { name: "io.containerd.runc.v2", available: hasRuncShim },
  { name: "io.containerd.ts.v2", available: hasTsShim },
];

/** What a suite's tests get: a started daemon on a temp root, a busybox rootfs, ctr in `ns`. */
export interface TaskSuite {
  readonly runtime: string;
  readonly ns: string;
  dir: string;
  rootfs: string;
  daemon: Daemon;
  ctr(args: string[], o?: { input?: string }): Promise<CtrResult>;
  /** `ctr run --runtime <runtime> [flags] --rootfs <rootfs> id args…` */
  run(id: string, args: string[], o?: { input?: string; flags?: string[] }): Promise<CtrResult>;
}

/**
 * One describe() per runtime, skipped where root, ctr or the shim is missing; the daemon is
 * started before the tests and everything is torn down after them, even on failure.
 */
export function describeEachRuntime(
  title: string,
  nsPrefix: string,
  body: (s: TaskSuite) => void,
  o: { needsCtr?: boolean } = {},
): void {
  for (const rt of RUNTIMES) {
    const missing = !isRoot || (o.needsCtr !== false && !hasCtr) || !rt.available;
    const skip = missing ? `needs root, ctr and ${rt.name}` : false;
    describe(`${title} with ${rt.name}`, { skip }, () => {
      const s: TaskSuite = {
        runtime: rt.name,
        // per process: concurrent runs must not share runc state (its root is per namespace)
        ns: `${nsPrefix}-${rt.name.split(".")[2]}-${process.pid}`,
        dir: "",
        rootfs: "",
        daemon: undefined as unknown as Daemon,
        ctr: (args, co = {}) => s.daemon.ctr(args, { ns: s.ns, ...co }),
        run: (id, args, ro = {}) =>
          s.ctr(
            ["run", "--runtime", rt.name, ...(ro.flags ?? []), "--rootfs", s.rootfs, id, ...args],
            ro,
          ),
      };
      before(async () => {
        s.dir = tempDir("ctd-ts-e2e-");
        s.rootfs = makeRootfs(s.dir);
        s.daemon = new Daemon(s.dir);
        await s.daemon.start();
      });
      after(async () => {
        await teardown(s.daemon, s.dir, s.ns);
      });
      body(s);
    });
  }
}

/** Polls `ctr tasks ls` until its output matches (or 10 s pass); returns the last output. */
export async function tasksLsUntil(s: TaskSuite, re: RegExp): Promise<string> {
  let out = "";
  for (let i = 0; i < 200; i++) {
    out = (await s.ctr(["tasks", "ls"])).stdout;
    if (re.test(out)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return out;
}
