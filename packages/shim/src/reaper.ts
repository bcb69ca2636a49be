import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isSyscallError, WNOHANG } from "@containerd-ts/sys";
import type { ShimSys } from "./sys.js";
import { nodeChildren } from "./tracked-spawn.js";

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

/** Every child of this process, across its threads (a reparented orphan may hang off any). */
export function childPids(): number[] {
  return childrenFilesExist() ? childrenFromTasks() : childrenFromScan();
}

let haveChildrenFiles: boolean | undefined;

/** /proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN; without it, scan /proc. */
function childrenFilesExist(): boolean {
  return (haveChildrenFiles ??= existsSync(`/proc/self/task/${process.pid}/children`));
}

/** The children lists of this process's threads (zombies included: they are still children). */
export function childrenFromTasks(): number[] {
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

/** Every process whose parent is this one, from /proc/<pid>/stat (slower: reads them all). */
export function childrenFromScan(): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const name of entries) {
    const pid = Number.parseInt(name, 10);
    if (!(pid > 0)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited and reaped meanwhile
    }
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "", 10);
    if (ppid === process.pid) pids.push(pid);
  }
  return pids;
}

/**
 * The subreaper's SIGCHLD loop: reaps every child the shim did not start through trackedSpawn
 * (container inits, exec'd processes, reparented orphans) with waitpid(pid, WNOHANG), never
 * touching the tracked ones, whose exits Node's child_process collects. It waits on listed pids
 * only, never on -1: a wait for any child could take a tracked child's exit from Node.
 */
export class Reaper {
  private timer: NodeJS.Timeout | undefined;
  private readonly onSignal = () => this.reap();

  constructor(
    private readonly sys: ShimSys,
    private readonly onExit: (e: ExitInfo) => void,
    private readonly listChildren: () => number[] = childPids,
    /** the pids Node waits for itself */
    private readonly ownedByNode: { has(pid: number): boolean } = nodeChildren,
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
    for (const pid of this.listChildren()) {
      if (this.ownedByNode.has(pid)) continue;
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
    // one failing handler must not lose the other exits of this pass: they are reaped already
    let failure: unknown;
    for (const e of exits) {
      try {
        this.onExit(e);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return exits;
  }
}
