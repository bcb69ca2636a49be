/**
 * runc-ts against the real runc, side by side in one run:
 *
 *   node bench/dist/runc-bench.js [--iterations N]
 *
 * `<runtime> run <id>` of /bin/true on the same busybox bundle, alternating the runtimes:
 * runc, runc-ts as installed (node_modules/.bin/runc-ts: the bundle, with and without
 * NODE_EXTRA_CA_CERTS when it is set) and runc-ts unbundled (dist/cli/main.js, which also
 * starts the unbundled init), to see what bundling buys.
 * Prints median wall time, the ratio, and peak RSS (GNU time's %M: the largest of the
 * runtime's processes, the init included). Measured, never asserted.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultSpec } from "@containerd-ts/runc/spec/default.js";
import { warnIfStale } from "./bundles.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNC_TS = realpathSync(join(REPO, "node_modules", ".bin", "runc-ts"));
const RUNC_TS_UNBUNDLED = join(REPO, "packages", "runc", "dist", "cli", "main.js");

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function makeBundle(dir: string): void {
  const rootfs = join(dir, "rootfs");
  for (const d of ["bin", "proc", "dev", "sys", "tmp"])
    mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  for (const a of ["sh", "true"]) symlinkSync("busybox", join(rootfs, "bin", a));
  // runc's default spec (runc-ts spec), running /bin/true without a terminal, 64 MB limit
  const spec = structuredClone(defaultSpec());
  spec.process!.terminal = false;
  spec.process!.args = ["/bin/true"];
  spec.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
}

interface Sample {
  ms: number;
  rssKb: number;
}

function once(cmd: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", ...cmd], { cwd, encoding: "utf8", env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  const rssKb = Number(r.stderr.trim().split("\n").pop());
  return { ms, rssKb };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function main(): void {
  warnIfStale(REPO, "before the run");
  const n = arg("--iterations", 15);
  const work = mkdtempSync(join(tmpdir(), "runc-bench-"));
  try {
    makeBundle(work);
    // NODE_EXTRA_CA_CERTS makes every Node start read a CA bundle: measure runc-ts both ways
    const lean = { ...process.env };
    delete lean.NODE_EXTRA_CA_CERTS;
    const runcTs =
      (state: string, main = RUNC_TS) =>
      (id: string) => [process.execPath, main, "--root", join(work, state), "run", id];
    const runtimes: Record<string, { cmd: (id: string) => string[]; env?: NodeJS.ProcessEnv }> = {
      runc: { cmd: (id) => ["runc", "--root", join(work, "runc-state"), "run", id] },
      "runc-ts": { cmd: runcTs("runc-ts-state") },
    };
    if (process.env.NODE_EXTRA_CA_CERTS)
      runtimes["runc-ts (no NODE_EXTRA_CA_CERTS)"] = {
        cmd: runcTs("runc-ts-lean-state"),
        env: lean,
      };
    runtimes["runc-ts unbundled (no NODE_EXTRA_CA_CERTS)"] = {
      cmd: runcTs("runc-ts-unbundled-state", RUNC_TS_UNBUNDLED),
      env: lean,
    };
    const samples: Record<string, Sample[]> = Object.fromEntries(
      Object.keys(runtimes).map((k) => [k, []]),
    );
    // one warm-up each (page cache), then alternate so all see the same machine state
    for (const [name, r] of Object.entries(runtimes))
      once(r.cmd(`warm-${name.length}`), work, r.env);
    for (let i = 0; i < n; i++)
      for (const [name, r] of Object.entries(runtimes))
        samples[name]!.push(once(r.cmd(`b${i}`), work, r.env));
    const rows = Object.entries(samples).map(([name, s]) => ({
      name,
      median: median(s.map((x) => x.ms)),
      peakRssMb: Math.max(...s.map((x) => x.rssKb)) / 1024,
    }));
    const runc = rows.find((r) => r.name === "runc")!;
    console.log(`runtime run /bin/true, ${n} iterations each (median wall time, peak RSS)`);
    for (const r of rows)
      console.log(
        `${r.name.padEnd(44)} ${r.median.toFixed(1).padStart(8)} ms   x${(r.median / runc.median).toFixed(2).padStart(5)}   ${r.peakRssMb.toFixed(1).padStart(6)} MB`,
      );
    warnIfStale(REPO, "after the run");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
