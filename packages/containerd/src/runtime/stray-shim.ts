import { readdir, readFile, readlink } from "node:fs/promises";

/**
 * Pids of shim processes started for a bundle: their cwd is the bundle and their argv
 * carries `-id <id>`. A shim serving a group of containers runs in the first one's bundle,
 * so a shim shared with other containers is never matched for a later one.
 */
export async function shimPidsInBundle(bundlePath: string, id: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if ((await readlink(`/proc/${name}/cwd`)) !== bundlePath) continue;
      const argv = (await readFile(`/proc/${name}/cmdline`, "utf8")).split("\0");
      const at = argv.indexOf("-id");
      if (at >= 0 && argv[at + 1] === id) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** SIGKILLs a wedged shim that would otherwise outlive its failed task with nothing to serve. */
export async function killShimsInBundle(bundlePath: string, id: string): Promise<number[]> {
  const pids = await shimPidsInBundle(bundlePath, id);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}
