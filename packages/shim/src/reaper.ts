import { readdirSync, readFileSync } from "node:fs";
import { isSyscallError, WNOHANG } from "@containerd-ts/sys";
import type { ShimSys } from "./sys.js";

export interface ExitInfo {
  pid: number;
  /** exit code, or 128 + signal for a killed process */
  status: number;
  exitedAt: Date;
}

/** Exit status as containerd reports it: the code, or 128 + the terminating signal. */
export function exitStatusOf(w: { exitCode?: number; signal?: number }): number {
  if (w.exitCode !== undefined) return w.exitCode;
  if (w.signal !== undefined) return 128 + w.signal;
  return 255;
}

/** Pids of the children Node's child_process spawned and still owns (it reaps those itself). */
export function nodeOwnedPids(): Set<number> {
  const owned = new Set<number>();
  const handles =
    (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  for (const h of handles) {
    const pid = (h as { pid?: unknown }).pid;
    if (h && (h as object).constructor?.name === "ChildProcess" && typeof pid === "number")
      owned.add(pid);
  }
  return owned;
}

/** Every child of this process, across its threads (a reparented orphan may hang off any). */
export function childPids(): number[] {
  const pids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return pids;
  }
  for (const t of tasks) {
    try {
      for (const s of readFileSync(`/proc/self/task/${t}/children`, "utf8").split(" ")) {
        const pid = Number.parseInt(s, 10);
        if (pid > 0) pids.push(pid);
      }
    } catch {
      // thread gone meanwhile
    }
  }
  return pids;
}

/**
 * The subreaper's SIGCHLD loop: reaps every child that Node did not spawn (container inits,
 * exec'd processes, reparented orphans) with waitpid(pid, WNOHANG), never touching Node's own
 * children, whose exits its child_process machinery collects.
 */
export class Reaper {
  private timer: NodeJS.Timeout | undefined;
  private readonly onSignal = () => this.reap();

  constructor(
    private readonly sys: ShimSys,
    private readonly onExit: (e: ExitInfo) => void,
    private readonly listChildren: () => number[] = childPids,
    private readonly ownedByNode: () => Set<number> = nodeOwnedPids,
  ) {}

  start(): void {
    process.on("SIGCHLD", this.onSignal);
    // a safety net for a coalesced or missed signal
    this.timer = setInterval(this.onSignal, 5000);
    this.timer.unref();
    this.reap();
  }

  stop(): void {
    process.off("SIGCHLD", this.onSignal);
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; returns the exits it collected. */
  reap(): ExitInfo[] {
    const exits: ExitInfo[] = [];
    const owned = this.ownedByNode();
    for (const pid of this.listChildren()) {
      if (owned.has(pid)) continue;
      let w;
      try {
        w = this.sys.waitpid(pid, WNOHANG);
      } catch (e) {
        if (isSyscallError(e, "ECHILD")) continue;
        throw e;
      }
      if (w.pid <= 0) continue;
      exits.push({ pid: w.pid, status: exitStatusOf(w), exitedAt: new Date() });
    }
    for (const e of exits) this.onExit(e);
    return exits;
  }
}
