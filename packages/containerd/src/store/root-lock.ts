import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { errFailedPrecondition } from "@containerd-ts/errdefs";

/**
 * One daemon per --root. Node has no flock, so the lock is a file created with O_EXCL
 * holding "<pid> <boot id> <process start time>"; a lock whose process is gone (or whose
 * pid now belongs to another process, after a reboot or pid reuse) is stale and replaced.
 */
export interface RootLock {
  readonly path: string;
  release(): void;
}

export const LOCK_FILE = "containerd-ts.lock";

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function identity(pid: number): string {
  return `${pid} ${bootId()} ${startTime(pid) ?? "?"}`;
}

/** The pid of a live holder of the lock text, or undefined if the holder is gone. */
function liveHolder(text: string): number | undefined {
  const [pidText] = text.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return identity(pid) === text.trim() ? pid : undefined;
}

export function acquireRootLock(root: string): RootLock {
  const path = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let text = "";
      try {
        text = readFileSync(path, "utf8");
      } catch {
        continue; // removed meanwhile: try again
      }
      const holder = liveHolder(text);
      if (holder !== undefined) {
        throw errFailedPrecondition(
          `root ${root} is in use by another containerd-ts (pid ${holder}); lock file ${path}`,
        );
      }
      try {
        unlinkSync(path);
      } catch {
        // another starter removed it first
      }
      continue;
    }
    writeSync(fd, identity(process.pid) + "\n");
    closeSync(fd);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      },
    };
  }
  throw errFailedPrecondition(`could not take the lock ${path}`);
}
