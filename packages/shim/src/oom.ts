import { oomKillCount, type CgroupPaths } from "./cgroups.js";

/**
 * Watches the memory cgroups of running containers for OOM kills (cgroup v1
 * memory.oom_control `oom_kill`) by polling the counter; reports each increase once.
 */
export class OomWatcher {
  private readonly watched = new Map<string, { paths: CgroupPaths; last: bigint }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onOom: (containerId: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  add(containerId: string, paths: CgroupPaths): void {
    const last = oomKillCount(paths);
    if (last === undefined) return;
    this.watched.set(containerId, { paths, last });
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Checks one container now (its init just exited: an OOM kill must be reported before the exit). */
  check(containerId: string): void {
    const w = this.watched.get(containerId);
    if (!w) return;
    const now = oomKillCount(w.paths);
    if (now !== undefined && now > w.last) {
      w.last = now;
      this.onOom(containerId);
    }
  }

  remove(containerId: string): void {
    this.watched.delete(containerId);
    if (this.watched.size === 0) this.stop();
  }

  /** One pass over every watched cgroup. */
  poll(): void {
    for (const id of this.watched.keys()) this.check(id);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
