import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/**
 * The children this process started with child_process and whose exit Node still waits for.
 * libuv waits for each of them by pid (waitpid(pid, WNOHANG) on SIGCHLD); if the subreaper
 * reaped one first, libuv would get ECHILD and the ChildProcess would never emit 'exit'. So the
 * reaper leaves every pid in here alone.
 *
 * A pid is recorded synchronously right after the fork (spawn returns with it), before any
 * signal handler or timer of ours can run, so the reaper never sees it unrecorded. It is
 * forgotten on 'exit', which Node emits after libuv reaped it.
 */
export class NodeChildren {
  private readonly byPid = new Map<number, ChildProcess>();

  /** Records `child` until Node reports its exit; returns it. */
  track(child: ChildProcess): ChildProcess {
    const pid = child.pid;
    // no pid: the spawn failed and libuv already reaped what it forked
    if (pid === undefined) return child;
    this.byPid.set(pid, child);
    child.once("exit", () => {
      // the pid may already name a newer child of ours
      if (this.byPid.get(pid) === child) this.byPid.delete(pid);
    });
    return child;
  }

  has(pid: number): boolean {
    return this.byPid.has(pid);
  }

  get size(): number {
    return this.byPid.size;
  }
}

/** This process's record: the reaper consults it, trackedSpawn fills it. */
export const nodeChildren = new NodeChildren();

/**
 * child_process.spawn for the serving shim: every child the shim starts itself (the runtime,
 * binary:// loggers) must come through here, or the reaper may steal its exit from Node.
 * spawnSync needs no tracking: it reaps its child before any reaper pass can run.
 */
export function trackedSpawn(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  return nodeChildren.track(spawn(command, args, options));
}
