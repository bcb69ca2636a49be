import { join } from "node:path";
import {
  REPO,
  spawnDaemon,
  waitUntilUp,
  type DaemonProcess,
  type SpawnOptions,
  type WaitOptions,
} from "./daemon-process.js";

/** Starting containerd-ts (the built daemon) on a temp root, for the tests and the benches. */

/** the daemon entry point; CONTAINERD_TS_MAIN overrides it (another build, a wrapper) */
export const DAEMON_MAIN =
  process.env.CONTAINERD_TS_MAIN ?? join(REPO, "packages", "containerd", "dist", "main.js");

export interface ContainerdTsOptions extends SpawnOptions {
  address: string;
  root: string;
  state: string;
  /** a config.toml of its own (containerd-ts takes containerd's --config) */
  config?: string;
  logLevel?: string;
  /** appended after the others, so they win (a flag given twice takes the last value) */
  extraArgs?: string[];
}

/** The daemon's command line: `node main.js --address … --root … --state …`. */
export function containerdTsArgs(o: ContainerdTsOptions): string[] {
  return [
    DAEMON_MAIN,
    "--address",
    o.address,
    "--root",
    o.root,
    "--state",
    o.state,
    ...(o.config ? ["--config", o.config] : []),
    ...(o.logLevel ? ["--log-level", o.logLevel] : []),
    ...(o.extraArgs ?? []),
  ];
}

/** Spawns containerd-ts without waiting (for tests that expect it to fail). */
export function spawnContainerdTs(o: ContainerdTsOptions): DaemonProcess {
  return spawnDaemon(process.execPath, containerdTsArgs(o), o);
}

/** Spawns containerd-ts and waits until `isUp` says it answers on `o.address`. */
export async function launchContainerdTs(
  o: ContainerdTsOptions & WaitOptions,
  isUp: () => Promise<boolean>,
): Promise<DaemonProcess> {
  const d = spawnContainerdTs(o);
  await waitUntilUp(d, o.address, isUp, { what: "containerd-ts", ...o });
  return d;
}
