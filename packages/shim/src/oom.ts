import { oomKillCount, type ContainerCgroup } from "./cgroups.js";

/**
 * Watches the memory cgroups of running containers for OOM kills (the `oom_kill` counter of
 * v1 memory.oom_control or v2 memory.events) by polling; reports each increase once.
 */
export class OomWatcher {
  private readonly watched = new Map<string, { cgroup: ContainerCgroup; last: bigint }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onOom: (containerId: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  add(containerId: string, cgroup: ContainerCgroup | undefined): void {
    const last = cgroup && oomKillCount(cgroup);
    if (!cgroup || last === undefined) return;
    this.watched.set(containerId, { cgroup, last });
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Checks one container now (its init just exited: an OOM kill must be reported before the exit). */
  check(containerId: string): void {
    const w = this.watched.get(containerId);
    if (!w) return;
    const now = oomKillCount(w.cgroup);
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
