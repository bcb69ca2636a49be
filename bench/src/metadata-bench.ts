#!/usr/bin/env node
/**
 * Metadata API bench: create, get, list and delete N containers through gRPC against
 * containerd-ts and against Debian's real containerd, started side by side on temp roots.
 * Prints per-operation median and p95 latency and the ratio ours/theirs.
 *
 *   node bench/dist/metadata-bench.js [--count 1000]
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { Version } from "@containerd-ts/gen/containerd/services/version/v1/version_pb.js";
import {
  launchContainerd,
  launchContainerdTs,
  stopDaemon,
  writeContainerdConfig,
} from "@containerd-ts/test";

const NS = "bench";
const SPEC = {
  typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
  value: Buffer.from(
    JSON.stringify({
      ociVersion: "1.0.2",
      process: { args: ["/bin/sh"], cwd: "/" },
      root: { path: "rootfs" },
    }),
  ),
};

interface Target {
  name: string;
  address: string;
  proc: ChildProcess;
  dir: string;
}

function transportFor(address: string): Transport {
  return createGrpcTransport({
    baseUrl: "http://localhost",
    nodeOptions: { createConnection: () => net.connect(address) },
  });
}

/** Whether the daemon answers Version over gRPC (one client, reused while polling). */
function versionAnswers(address: string): () => Promise<boolean> {
  const version = createClient(Version, transportFor(address));
  return () =>
    version.version({}).then(
      () => true,
      () => false,
    );
}

/** containerd-ts with SQLite synchronous=full (the default: fsync per commit) or normal. */
async function startOurs(synchronous: "full" | "normal"): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "bench-ctd-ts-"));
  const address = join(dir, "c.sock");
  const config = join(dir, "config.toml");
  writeFileSync(config, `[metadata]\nsynchronous = "${synchronous}"\n`);
  const o = { address, root: join(dir, "root"), state: join(dir, "state"), config };
  const d = await launchContainerdTs({ ...o, logLevel: "warn" }, versionAnswers(address));
  return { name: `containerd-ts (synchronous=${synchronous})`, address, proc: d.proc, dir };
}

async function startReal(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "bench-containerd-"));
  const address = join(dir, "c.sock");
  writeContainerdConfig(dir, address);
  const d = await launchContainerd(dir, address, versionAnswers(address), undefined, {
    logLevel: "warn",
  });
  return { name: "containerd", address, proc: d.proc, dir };
}

async function stop(t: Target): Promise<void> {
  await stopDaemon(t.proc);
  rmSync(t.dir, { recursive: true, force: true });
}

type Samples = Record<string, number[]>;

async function timed(samples: Samples, op: string, fn: () => Promise<unknown>): Promise<void> {
  const t0 = process.hrtime.bigint();
  await fn();
  (samples[op] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
}

async function run(t: Target, count: number): Promise<Samples> {
  const c = createClient(Containers, transportFor(t.address));
  const opts = { headers: { "containerd-namespace": NS } };
  const samples: Samples = {};
  const ids = Array.from({ length: count }, (_, i) => `bench-${i}`);
  // warm up the connection and both code paths
  await c.create(
    { container: { id: "warm", runtime: { name: "io.containerd.runc.v2" }, spec: SPEC } },
    opts,
  );
  await c.delete({ id: "warm" }, opts);
  for (const id of ids) {
    await timed(samples, "create", () =>
      c.create(
        {
          container: {
            id,
            labels: { app: "bench" },
            runtime: { name: "io.containerd.runc.v2" },
            spec: SPEC,
          },
        },
        opts,
      ),
    );
  }
  for (const id of ids) await timed(samples, "get", () => c.get({ id }, opts));
  for (let i = 0; i < 20; i++) {
    await timed(samples, `list (${count})`, async () => {
      const r = await c.list({}, opts);
      if (r.containers.length !== count) throw new Error(`${t.name} listed ${r.containers.length}`);
    });
  }
  for (const id of ids) await timed(samples, "delete", () => c.delete({ id }, opts));
  return samples;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

function table(title: string, a: Samples, b: Samples): void {
  const rows = Object.keys(a).map((op) => {
    const ma = quantile(a[op]!, 0.5);
    const mb = quantile(b[op]!, 0.5);
    return [
      op,
      ma.toFixed(3),
      quantile(a[op]!, 0.95).toFixed(3),
      mb.toFixed(3),
      quantile(b[op]!, 0.95).toFixed(3),
      (ma / mb).toFixed(2),
    ];
  });
  const header = [
    "operation",
    "ts median ms",
    "ts p95 ms",
    "containerd median ms",
    "containerd p95 ms",
    "ratio",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(title);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: "string", default: "1000" } } });
  const count = Number(values.count);
  const targets: Target[] = [];
  try {
    const real = await startReal();
    targets.push(real);
    const theirs = await run(real, count);
    console.log(
      `metadata bench: ${count} containers, sequential gRPC calls over one connection; ratio = ts/containerd`,
    );
    for (const sync of ["full", "normal"] as const) {
      const ours = await startOurs(sync);
      targets.push(ours);
      table(
        `\n${ours.name} vs containerd ${real.name === "containerd" ? "(bolt, fsync per commit)" : ""}`,
        await run(ours, count),
        theirs,
      );
    }
  } finally {
    for (const t of targets) await stop(t);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
