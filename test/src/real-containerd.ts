import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  daemonEnv,
  spawnDaemon,
  stopDaemon,
  waitUntilUp,
  type DaemonProcess,
  type WaitOptions,
} from "./daemon-process.js";

export { removeNamespaceLeftovers } from "./leftovers.js";

/**
 * Starting and stopping the real containerd (Debian package) on a temp root, for every test and
 * bench that runs it. Only the plugins a temp root cannot serve are disabled.
 */
export const DISABLED_PLUGINS = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
];

export interface ContainerdConfigOptions {
  /** in place of DISABLED_PLUGINS */
  disabledPlugins?: string[];
  /** TOML appended as is, e.g. `[plugins."io.containerd.runtime.v1.linux"]` tables */
  extraToml?: string[];
}

/**
 * Writes `<dir>/config.toml` for a daemon listening on `sock` (gRPC) and `sock.ttrpc` (ttrpc);
 * returns its path. Root and state are not in it: launchContainerd passes them as flags.
 */
export function writeContainerdConfig(
  dir: string,
  sock: string,
  o: ContainerdConfigOptions = {},
): string {
  const config = join(dir, "config.toml");
  const disabled = o.disabledPlugins ?? DISABLED_PLUGINS;
  writeFileSync(
    config,
    [
      "version = 2",
      `disabled_plugins = [${disabled.map((p) => `"${p}"`).join(", ")}]`,
      "[grpc]",
      `  address = "${sock}"`,
      "[ttrpc]",
      `  address = "${sock}.ttrpc"`,
      ...(o.extraToml ?? []),
      "",
    ].join("\n"),
  );
  return config;
}

export type ContainerdProcess = DaemonProcess;

export interface LaunchOptions extends WaitOptions {
  /** default `<dir>/root` */
  root?: string;
  /** default `<dir>/state` */
  state?: string;
  /** default `<dir>/config.toml` (writeContainerdConfig's) */
  config?: string;
  logLevel?: string;
  /** called with every chunk the daemon prints */
  onOutput?: (text: string) => void;
}

/** Spawns containerd with root and state under `dir` (config from writeContainerdConfig). */
export function spawnContainerd(
  dir: string,
  sock: string,
  env: NodeJS.ProcessEnv = daemonEnv(),
  o: LaunchOptions = {},
): ContainerdProcess {
  return spawnDaemon(
    "containerd",
    [
      "--root",
      o.root ?? join(dir, "root"),
      "--state",
      o.state ?? join(dir, "state"),
      "--address",
      sock,
      "--config",
      o.config ?? join(dir, "config.toml"),
      ...(o.logLevel ? ["--log-level", o.logLevel] : []),
    ],
    { env, onOutput: o.onOutput },
  );
}

/**
 * spawnContainerd, then waits until `isUp` says it answers; throws with the daemon's output
 * when it exits first or does not answer.
 */
export async function launchContainerd(
  dir: string,
  sock: string,
  isUp: () => Promise<boolean>,
  env: NodeJS.ProcessEnv = daemonEnv(),
  o: LaunchOptions = {},
): Promise<ContainerdProcess> {
  const d = spawnContainerd(dir, sock, env, o);
  await waitUntilUp(d, sock, isUp, { what: "containerd", ...o });
  return d;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopContainerd(
  proc: DaemonProcess["proc"] | undefined,
  graceMs = 5000,
): Promise<void> {
  await stopDaemon(proc, { graceMs });
}
