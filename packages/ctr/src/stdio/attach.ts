import type * as net from "node:net";
import { openFifoReader, openFifoWriter, type FifoSet } from "./fifo.js";

export interface AttachedIO {
  /**
   * Starts copying our stdin into the task; call once the task runs (see below). With
   * `onEnd`, our EOF becomes the task's EOF; without, the FIFO stays open until the task
   * exits (a tty: containerd's shim tears the console down when its stdin ends).
   */
  startStdin(onEnd?: () => void): void;
  /** Resolves when stdout and stderr both reached EOF (the shim closed them). */
  outputDone: Promise<void>;
  /** Stops all copying and closes our FIFO ends. */
  close(): void;
}

function drained(stream: net.Socket | undefined): Promise<void> {
  if (!stream) return Promise.resolve();
  return new Promise((done) => {
    stream.once("close", () => done());
    stream.once("error", () => done());
  });
}

/**
 * Our ends of a FIFO set, opened before Tasks/Create like containerd's cio: stdout/stderr
 * copied to ours right away; stdin only after Start, because closing our write end before the
 * shim has opened the other one would lose the data in the pipe.
 */
export function attachFifos(set: FifoSet): AttachedIO {
  const stdout = set.stdout ? openFifoReader(set.stdout) : undefined;
  const stderr = set.stderr ? openFifoReader(set.stderr) : undefined;
  const stdin = set.stdin ? openFifoWriter(set.stdin) : undefined;
  stdout?.on("data", (b: Buffer) => process.stdout.write(b));
  stderr?.on("data", (b: Buffer) => process.stderr.write(b));
  stdin?.on("error", () => undefined); // the task went away: its stdin does not matter anymore
  // our reader went away (`ctr-ts run ... | head -1`): keep draining so the task is not stuck
  for (const out of [process.stdout, process.stderr])
    if (out.listenerCount("error") === 0) out.on("error", () => undefined);
  const outputDone = Promise.all([drained(stdout), drained(stderr)]).then(() => undefined);
  return {
    startStdin(onEnd) {
      if (!stdin) return;
      process.stdin.on("data", (b: Buffer) => stdin.write(b));
      process.stdin.once("end", () => {
        if (!onEnd) return;
        stdin.end();
        onEnd();
      });
      process.stdin.resume();
    },
    outputDone,
    close() {
      process.stdin.pause();
      stdout?.destroy();
      stderr?.destroy();
      stdin?.destroy();
    },
  };
}

/** Raw mode for `-t`, restored however the process ends. */
export function enterRawMode(): void {
  if (!process.stdin.isTTY) return;
  process.stdin.setRawMode(true);
  process.once("exit", () => {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
  });
}

/** The local terminal size, or undefined when stdout is not a terminal. */
export function terminalSize(): { width: number; height: number } | undefined {
  if (!process.stdout.isTTY) return undefined;
  return { width: process.stdout.columns, height: process.stdout.rows };
}
