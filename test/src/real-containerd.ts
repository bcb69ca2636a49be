import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { removeCgroups } from "./tasks-support.js";
import { join } from "node:path";

/**
 * Starting and stopping the real containerd (Debian package) on a temp root, for the suites that
 * put one of our links under it. Only the plugins a temp root cannot serve are disabled.
 */
const DISABLED_PLUGINS = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
];

/** Writes `<dir>/config.toml` for a daemon listening on `sock`; returns its path. */
export function writeContainerdConfig(dir: string, sock: string): string {
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    [
      "version = 2",
      `disabled_plugins = [${DISABLED_PLUGINS.map((p) => `"${p}"`).join(", ")}]`,
      "[grpc]",
      `  address = "${sock}"`,
      "",
    ].join("\n"),
  );
  return config;
}

export interface ContainerdProcess {
  proc: ChildProcess;
  /** everything the daemon printed so far */
  log(): string;
}

/**
 * Spawns containerd with root and state under `dir` (config from writeContainerdConfig) and
 * waits until `isUp` says it answers; throws with the daemon's output when it does not.
 */
export async function launchContainerd(
  dir: string,
  sock: string,
  isUp: () => Promise<boolean>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ContainerdProcess> {
  const proc = spawn(
    "containerd",
    [
      "--root",
      join(dir, "root"),
      "--state",
      join(dir, "state"),
      "--address",
      sock,
      "--config",
      join(dir, "config.toml"),
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  proc.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const handle = { proc, log: () => log };
  for (let i = 0; i < 100; i++) {
    if (existsSync(sock) && (await isUp())) return handle;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`containerd did not come up:\n${log}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopContainerd(proc: ChildProcess | undefined, graceMs = 5000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
}

/**
 * What the real runc shim leaves of a namespace: runc's state root /run/containerd/runc/<ns>
 * and the namespace's parent cgroup in every hierarchy. The cgroups stay busy for a moment
 * while killed containers finish exiting, so removal is retried for a few seconds.
 */
export async function removeNamespaceLeftovers(ns: string, tries = 30): Promise<void> {
  rmSync(join("/run/containerd/runc", ns), { recursive: true, force: true });
  for (let i = 0; i < tries; i++) {
    removeCgroups(ns);
    const left = readdirSync("/sys/fs/cgroup").some((c) =>
      existsSync(join("/sys/fs/cgroup", c, ns)),
    );
    if (!left) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
