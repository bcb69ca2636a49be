import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { SIGNALS } from "@containerd-ts/sys/constants.js";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { bigintReplacer } from "../init/sync.js";
import type { SyncMessage } from "../init/sync.js";
import type { PlanMessage } from "../init/protocol.js";

/**
 * What runs `runc-ts init`: in the bundled runc-ts (dist/bundle/runc-ts.cjs, built by
 * scripts/bundle.mjs) the init's own bundle beside it, else the CLI beside this module.
 */
const INIT_ENTRY = [
  new URL("./runc-ts-init.cjs", import.meta.url),
  new URL("../cli/main.js", import.meta.url),
]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p));

export interface SpawnedInit {
  child: ChildProcess;
  /** next message from the child; undefined once it closed the channel */
  next(): Promise<SyncMessage | undefined>;
  send(msg: PlanMessage | SyncMessage): void;
  close(): void;
}

/**
 * Spawns `runc-ts init` with the container's stdio as 0-2, the preserved fds next, then the
 * sync socket and the console socket. A minimal environment keeps Node's start-up short.
 */
export function spawnInit(opts: {
  cwd: string;
  preserveFds: number;
  consoleFd?: number;
}): SpawnedInit {
  const stdio: (number | "inherit" | "pipe")[] = ["inherit", "inherit", "inherit"];
  for (let i = 0; i < opts.preserveFds; i++) stdio.push(3 + i);
  const syncIdx = stdio.length;
  stdio.push("pipe");
  if (INIT_ENTRY === undefined) throw new Error("runc-ts init: entry not found beside runc-ts");
  // one V8 helper thread, not four: the init lives briefly, and its execve must first stop
  // every other thread (≈ 5 ms per container, measured; a Node option, not a V8 flag, so
  // Node's code cache stays valid)
  const args = ["--v8-pool-size=1", INIT_ENTRY, "init", "--sync-fd", String(syncIdx)];
  if (opts.consoleFd !== undefined) {
    args.push("--console-fd", String(stdio.length));
    stdio.push(opts.consoleFd);
  }
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...(process.env.RUNC_TS_TRACE ? { RUNC_TS_TRACE: process.env.RUNC_TS_TRACE } : {}),
    },
    stdio,
  });
  const sock = child.stdio[syncIdx] as Duplex;
  const queue: (SyncMessage | undefined)[] = [];
  const waiters: ((m: SyncMessage | undefined) => void)[] = [];
  let buf = "";
  let ended = false;
  const push = (m: SyncMessage | undefined) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  };
  sock.setEncoding("utf8");
  sock.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        push(JSON.parse(line) as SyncMessage);
      } catch {
        push({ type: "error", message: `sync: bad message ${line}` });
      }
    }
  });
  const end = () => {
    if (ended) return;
    ended = true;
    push(undefined);
  };
  sock.on("end", end);
  sock.on("close", end);
  sock.on("error", end);
  child.on("error", (e) => push({ type: "error", message: `spawn init: ${e.message}` }));
  return {
    child,
    next() {
      if (queue.length) return Promise.resolve(queue.shift());
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(resolve));
    },
    send(msg) {
      sock.write(JSON.stringify(msg, bigintReplacer) + "\n");
    },
    close() {
      sock.destroy();
    },
  };
}

/** The child's exit as a shell would report it: the code, or 128 + signal number. */
export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) =>
    child.once("exit", (code, signal) =>
      resolve(code ?? 128 + (signal ? (SIGNALS[signal.replace(/^SIG/, "")] ?? 0) : 0)),
    ),
  );
}

const FORWARDED: NodeJS.Signals[] = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
];

/** Forwards the signals a foreground runc forwards to `pid`; returns the undo. */
export function forwardSignals(pid: number): () => void {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // the process is exiting
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  return () => {
    for (const s of FORWARDED) process.off(s, forward);
  };
}
