import { oomKillCount, type ContainerCgroup } from "./cgroups.js";

interface Watched {
  locate: () => ContainerCgroup | undefined;
  cgroup?: ContainerCgroup;
  last?: bigint;
}

/**
 * Watches the memory cgroups of running containers for OOM kills (the `oom_kill` counter of
 * v1 memory.oom_control or v2 memory.events) by polling; reports each increase once. A cgroup
 * not known yet (the init has not joined it) is looked up again on every pass.
 */
export class OomWatcher {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onOom: (containerId: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  add(containerId: string, locate: () => ContainerCgroup | undefined): void {
    const w: Watched = { locate };
    this.watched.set(containerId, w);
    this.baseline(w);
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Checks one container now (its init just exited: an OOM kill must be reported before the exit). */
  check(containerId: string): void {
    const w = this.watched.get(containerId);
    if (!w) return;
    if (w.cgroup === undefined) {
      this.baseline(w);
      return;
    }
    const now = oomKillCount(w.cgroup);
    if (now !== undefined && w.last !== undefined && now > w.last) {
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

  private baseline(w: Watched): void {
    const cg = w.locate();
    if (!cg) return;
    w.cgroup = cg;
    w.last = oomKillCount(cg) ?? 0n;
  }
}
