/**
 * Task start-up, side by side: containerd-ts against the real containerd 1.6 (both on temp
 * roots started here), with the real runc shim and, when installed, containerd-shim-ts-v2.
 *
 *   node bench/dist/run-bench.js [--iterations N] [--keep]
 *
 * 1. `ctr run --rm --rootfs R id /bin/true`, end to end (client start-up included);
 * 2. the same lifecycle through one persistent gRPC client (create container, create task,
 *    start + wait, delete task, delete container): the daemon's own work;
 * 3. RSS of an idle shim (a `sleep` container) per shim binary, 1.5 s after its start and
 *    settled (10 s: V8 returns start-up garbage only after a while), and the anonymous part
 *    of the settled RSS (what is not a mapped file: the node binary's pages are shared).
 * Targets: each daemon with the real runc shim and with containerd-shim-ts-v2 (its bin, the
 * bundle), and containerd-ts with the unbundled shim (dist/main.js) for comparison.
 * Prints medians and ratios. Performance is measured here, never asserted in tests.
 */
import { spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { warnIfStale } from "./bundles.js";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import {
  launchContainerd,
  launchContainerdTs,
  removeDaemonLeftovers,
  removeNamespaceLeftovers,
  stopDaemon,
  writeContainerdConfig,
} from "@containerd-ts/test";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SHIM_UNBUNDLED = join(REPO, "packages", "shim", "dist", "main.js");
/** holds containerd-shim-tsunbundled-v2 → the shim's unbundled dist/main.js */
const BENCH_BIN = mkdtempSync(join(tmpdir(), "ctd-ts-bench-bin-"));
const PATH = `${process.env.PATH}:${join(REPO, "node_modules", ".bin")}:${BENCH_BIN}`;
/** per process: runc's state root and cgroups are per namespace, shared by concurrent runs */
const NS = `bench-${process.pid}`;

const args = process.argv.slice(2);
const ITER = Number(args[args.indexOf("--iterations") + 1] || 15) || 15;
const KEEP = args.includes("--keep");

interface Target {
  name: string;
  address: string;
  runtime: string;
  state: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ctr(address: string, argv: string[]): { code: number | null; out: string } {
  const r = spawnSync("ctr", ["-a", address, "-n", NS, ...argv], { encoding: "utf8", input: "" });
  return { code: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

/** Whether the daemon answers `ctr version`. */
const ctrAnswers = (address: string) => async () => ctr(address, ["version"]).code === 0;

let defaultSpec: string | undefined;

/** ctr's default OCI spec, made once (outside the measured loops). */
function specAny(rootfs: string, id: string, argv: string[]) {
  defaultSpec ??= execFileSync("ctr", ["oci", "spec"], { encoding: "utf8" });
  const spec = JSON.parse(defaultSpec) as {
    process: { args: string[]; terminal: boolean };
    root: { path: string };
    linux: { cgroupsPath: string };
  };
  spec.process.args = argv;
  spec.process.terminal = false;
  spec.root.path = rootfs;
  spec.linux.cgroupsPath = `/${NS}/${id}`;
  return create(AnySchema, {
    typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
    value: Buffer.from(JSON.stringify(spec)),
  });
}

function apiClients(address: string) {
  const sessionManager = new Http2SessionManager(
    "http://localhost",
    { idleConnectionTimeoutMs: 2 ** 31 - 1 },
    { createConnection: () => net.connect(address) },
  );
  const ns: Interceptor = (next) => (req) => {
    req.header.set("containerd-namespace", NS);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl: "http://localhost",
    sessionManager,
    interceptors: [ns],
  });
  return {
    containers: createClient(Containers, transport),
    tasks: createClient(Tasks, transport),
    close: () => sessionManager.abort(),
  };
}

function ctrRunOnce(t: Target, rootfs: string, i: number): number {
  const id = `ctr-${i}`;
  const argv = ["run", "--rm", "--runtime", t.runtime, "--rootfs", rootfs, id, "/bin/true"];
  const t0 = performance.now();
  const r = ctr(t.address, argv);
  const dt = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${t.name}: ctr run failed: ${r.out}`);
  return dt;
}

type Api = ReturnType<typeof apiClients>;

async function apiOnce(c: Api, t: Target, rootfs: string, i: number): Promise<number> {
  const id = `api-${i}`;
  const spec = specAny(rootfs, id, ["/bin/true"]);
  const t0 = performance.now();
  await c.containers.create({ container: { id, runtime: { name: t.runtime }, spec } });
  await c.tasks.create({ containerId: id });
  const waiting = c.tasks.wait({ containerId: id });
  await c.tasks.start({ containerId: id });
  await waiting;
  await c.tasks.delete({ containerId: id });
  await c.containers.delete({ id });
  return performance.now() - t0;
}

/**
 * Round-robin over the targets, one run each per round, so that load from other
 * processes on the machine hits every target alike; round 0 only warms up.
 */
async function measure(
  targets: Target[],
  rootfs: string,
): Promise<{ ctrRun: number[]; api: number[] }[]> {
  const out = targets.map(() => ({ ctrRun: [] as number[], api: [] as number[] }));
  const clients = targets.map((t) => apiClients(t.address));
  try {
    for (let i = 0; i <= ITER; i++) {
      for (const [k, t] of targets.entries()) {
        const c = ctrRunOnce(t, rootfs, i);
        const a = await apiOnce(clients[k]!, t, rootfs, i);
        if (i > 0) {
          out[k]!.ctrRun.push(c);
          out[k]!.api.push(a);
        }
      }
    }
  } finally {
    for (const c of clients) c.close();
  }
  return out;
}

/** A status field in MB (VmRSS: resident; RssAnon: the private part, not the shared binary). */
function statusMb(pid: number, field: "VmRSS" | "RssAnon"): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Pid of the shim serving a task: the process whose cwd is the task's bundle. */
function shimPidOf(bundle: string): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (
        readlinkSync(`/proc/${name}/cwd`) === bundle &&
        readFileSync(`/proc/${name}/cmdline`, "utf8").includes("-id")
      ) {
        return Number(name);
      }
    } catch {
      // gone
    }
  }
  return undefined;
}

/** When idle shim RSS is sampled: early (start-up garbage included) and settled. */
const RSS_EARLY_MS = 1500;
const RSS_SETTLED_MS = 10_000; // V8's memory reducer starts ≈ 8 s after a full GC

/**
 * RSS of an idle shim (a `sleep` container) per target, all started together and sampled
 * RSS_EARLY_MS and RSS_SETTLED_MS after the last start.
 */
async function idleShimRss(
  targets: Target[],
  rootfs: string,
): Promise<{ early: number; settled: number; anon: number }[]> {
  const ids = targets.map((_, k) => `idle${k}`);
  const sample = (field: "VmRSS" | "RssAnon") =>
    targets.map((t, k) => {
      const pid = shimPidOf(join(t.state, "io.containerd.runtime.v2.task", NS, ids[k]!));
      return pid === undefined ? NaN : statusMb(pid, field);
    });
  try {
    for (const [k, t] of targets.entries()) {
      const argv = ["run", "-d", "--runtime", t.runtime, "--rootfs", rootfs, ids[k]!];
      const r = ctr(t.address, [...argv, "/bin/sleep", "1000"]);
      if (r.code !== 0) throw new Error(`${t.name}: run -d failed: ${r.out}`);
    }
    await sleep(RSS_EARLY_MS);
    const early = sample("VmRSS");
    await sleep(RSS_SETTLED_MS - RSS_EARLY_MS);
    const settled = sample("VmRSS");
    const anon = sample("RssAnon");
    return targets.map((_, k) => ({ early: early[k]!, settled: settled[k]!, anon: anon[k]! }));
  } finally {
    for (const [k, t] of targets.entries()) {
      const id = ids[k]!;
      ctr(t.address, ["tasks", "kill", "-s", "SIGKILL", id]);
      const running = new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, "m");
      for (let i = 0; i < 50 && running.test(ctr(t.address, ["tasks", "ls"]).out); i++)
        await sleep(50);
      ctr(t.address, ["tasks", "rm", "-f", id]);
      ctr(t.address, ["containers", "rm", id]);
    }
  }
}

function hasShim(name: string): boolean {
  return (
    spawnSync("sh", ["-c", `command -v ${name}`], { env: { ...process.env, PATH } }).status === 0
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run the bench as root");
  warnIfStale(REPO, "before the run");
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-bench-"));
  const rootfs = join(dir, "rootfs");
  execFileSync(join(REPO, "scripts", "make-rootfs.sh"), [rootfs], { stdio: "ignore" });
  const procs: ChildProcess[] = [];
  try {
    const ours = {
      address: join(dir, "ts.sock"),
      root: join(dir, "ts-root"),
      state: join(dir, "ts-state"),
    };
    const env = { ...process.env, PATH };
    procs.push((await launchContainerdTs({ ...ours, env }, ctrAnswers(ours.address))).proc);
    const real = {
      address: join(dir, "real.sock"),
      root: join(dir, "real-root"),
      state: join(dir, "real-state"),
    };
    writeContainerdConfig(dir, real.address);
    const paths = { root: real.root, state: real.state };
    const theirs = await launchContainerd(dir, real.address, ctrAnswers(real.address), env, paths);
    procs.push(theirs.proc);

    const targets: Target[] = [
      {
        name: "containerd 1.6 + runc shim",
        address: real.address,
        runtime: "io.containerd.runc.v2",
        state: real.state,
      },
      {
        name: "containerd-ts + runc shim",
        address: ours.address,
        runtime: "io.containerd.runc.v2",
        state: ours.state,
      },
    ];
    if (hasShim("containerd-shim-ts-v2")) {
      targets.push({
        name: "containerd-ts + ts shim",
        address: ours.address,
        runtime: "io.containerd.ts.v2",
        state: ours.state,
      });
      // the same shim without its bundle (dist/main.js, ~130 modules): what bundling buys
      symlinkSync(SHIM_UNBUNDLED, join(BENCH_BIN, "containerd-shim-tsunbundled-v2"));
      targets.push({
        name: "containerd-ts + ts shim unbundled",
        address: ours.address,
        runtime: "io.containerd.tsunbundled.v2",
        state: ours.state,
      });
      targets.push({
        name: "containerd 1.6 + ts shim",
        address: real.address,
        runtime: "io.containerd.ts.v2",
        state: real.state,
      });
    }

    const samples = await measure(targets, rootfs);
    const rss = await idleShimRss(targets, rootfs);
    const rows = targets.map((t, k) => ({
      name: t.name,
      ctrRun: median(samples[k]!.ctrRun),
      api: median(samples[k]!.api),
      ...rss[k]!,
    }));
    for (const r of rows)
      console.log(
        `${r.name}: ctr run --rm ${fmt(r.ctrRun)}, API lifecycle ${fmt(r.api)}, idle shim RSS ${r.early.toFixed(1)} MB at ${RSS_EARLY_MS / 1000} s, ${r.settled.toFixed(1)} MB at ${RSS_SETTLED_MS / 1000} s (${r.anon.toFixed(1)} MB anonymous)`,
      );
    const base = rows[0]!;
    console.log(`\nmedians of ${ITER} runs; ratio = target / ${base.name}`);
    const rssHead = (ms: number) => `RSS ${ms / 1000} s`.padStart(10);
    console.log(
      [
        "target".padEnd(34),
        "ctr run --rm".padStart(14),
        "ratio",
        "API".padStart(10),
        "ratio",
        rssHead(RSS_EARLY_MS),
        "ratio",
        rssHead(RSS_SETTLED_MS),
        "ratio",
        "anon".padStart(10),
        "ratio",
      ].join("  "),
    );
    const mb = (v: number) => `${v.toFixed(1)} MB`.padStart(10);
    const ratio = (v: number, b: number) => (v / b).toFixed(2).padStart(5);
    for (const r of rows) {
      console.log(
        [
          r.name.padEnd(34),
          fmt(r.ctrRun).padStart(14),
          ratio(r.ctrRun, base.ctrRun),
          fmt(r.api).padStart(10),
          ratio(r.api, base.api),
          mb(r.early),
          ratio(r.early, base.early),
          mb(r.settled),
          ratio(r.settled, base.settled),
          mb(r.anon),
          ratio(r.anon, base.anon),
        ].join("  "),
      );
    }
    warnIfStale(REPO, "after the run");
  } finally {
    for (const p of procs) await stopDaemon(p, { graceMs: 5000 });
    // the runc shim's state root and cgroups of NS, and with --keep the dir stays
    if (KEEP) await removeNamespaceLeftovers(NS);
    else await removeDaemonLeftovers(dir, NS);
    rmSync(BENCH_BIN, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
