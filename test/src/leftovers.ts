import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";

/**
 * What a daemon run leaves on the machine besides its temp dir (shims, containers, mounts,
 * runc state, cgroups) and its removal, for the tests and the benches. Only what a test dir or
 * a test namespace names is touched: other suites run at the same time.
 */

/** runc's state root of a namespace, as the real runc shim (under either daemon) uses it. */
export function runcRootOf(ns: string): string {
  return join("/run/containerd/runc", ns);
}

/** Shim processes whose cwd is a bundle under `stateDir`. */
export function shimPidsUnder(stateDir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`).startsWith(stateDir)) out.push(Number(name));
    } catch {
      // gone or not ours
    }
  }
  return out;
}

/** Mount points whose path starts with `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(dir));
}

function rmdirSafe(p: string): void {
  try {
    rmdirSync(p);
  } catch {
    // busy or gone
  }
}

/** Removes the cgroups named after a namespace (runc's `/<ns>/<id>`) in every hierarchy. */
export function removeCgroups(ns: string): void {
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const d = join("/sys/fs/cgroup", h, ns);
    if (!existsSync(d)) continue;
    for (const child of readdirSync(d, { withFileTypes: true })) {
      if (child.isDirectory()) rmdirSafe(join(d, child.name));
    }
    rmdirSafe(d);
  }
}

/**
 * What the real runc shim leaves of a namespace: runc's state root /run/containerd/runc/<ns>
 * and the namespace's parent cgroup in every hierarchy. The cgroups stay busy for a moment
 * while killed containers finish exiting, so removal is retried for a few seconds.
 */
export async function removeNamespaceLeftovers(ns: string, tries = 30): Promise<void> {
  rmSync(runcRootOf(ns), { recursive: true, force: true });
  for (let i = 0; i < tries; i++) {
    removeCgroups(ns);
    const left = readdirSync("/sys/fs/cgroup").some((c) =>
      existsSync(join("/sys/fs/cgroup", c, ns)),
    );
    if (!left) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Force-deletes the runc containers a namespace still has (their shim or daemon is gone). */
export function deleteRuncContainers(ns: string): void {
  const root = runcRootOf(ns);
  if (!existsSync(root)) return;
  const list = spawnSync("runc", ["--root", root, "list", "-q"], { encoding: "utf8" });
  for (const id of (list.stdout ?? "").split("\n").filter(Boolean))
    spawnSync("runc", ["--root", root, "delete", "--force", id]);
}

/**
 * Teardown after a daemon has been stopped; never throws. Containers of `ns` that are still
 * there, the shims serving bundles under `dir`, mounts under `dir`, the namespace's runc state
 * and cgroups, and finally `dir` itself.
 */
export async function removeDaemonLeftovers(dir: string, ns: string): Promise<void> {
  deleteRuncContainers(ns);
  for (const pid of shimPidsUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    spawnSync("umount", ["-l", m]);
  }
  await removeNamespaceLeftovers(ns);
  rmSync(dir, { recursive: true, force: true });
}

/** A ctr of the caller's (the real one or ctr-ts), bound to a daemon and a namespace. */
export type NamespacedCtr = (args: string[]) => Promise<{ stdout: string }>;

/**
 * Kills and deletes the tasks a failed test left in a namespace, then its containers, through
 * the daemon, while it still runs; never throws.
 */
export async function clearNamespace(ctr: NamespacedCtr): Promise<void> {
  const ids = async (args: string[]) =>
    (await ctr(args).catch(() => ({ stdout: "" }))).stdout.split("\n").filter((s) => s.trim());
  try {
    for (const id of await ids(["tasks", "ls", "-q"])) {
      await ctr(["tasks", "kill", "-a", "-s", "SIGKILL", id]);
      await ctr(["tasks", "rm", "-f", id]);
    }
    for (const id of await ids(["containers", "ls", "-q"])) await ctr(["containers", "rm", id]);
  } catch {
    // the daemon is gone: removeDaemonLeftovers takes what it left
  }
}
