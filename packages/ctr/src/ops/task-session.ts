import type { Client } from "@connectrpc/connect";
import type { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import type { ContainerdClient } from "../client/client.js";
import { attachFifos, enterRawMode, terminalSize, type AttachedIO } from "../stdio/attach.js";
import { createFifoSet, removeFifoSet, type FifoSet } from "../stdio/fifo.js";
import { FORWARDED_SIGNALS } from "../signals.js";
import { constants } from "node:os";

export interface StdioChoice {
  /** attach our stdin (`-i`, or `-t`) */
  stdin: boolean;
  tty: boolean;
  /** leave the task running and return at once (`-d`) */
  detach: boolean;
  fifoRoot: string;
}

/** A process of a task: the init process (no execId) or an exec. */
export interface ProcessRef {
  containerId: string;
  execId?: string;
}

/** After the output ends, how long to wait for a shim that does not close its FIFOs. */
const OUTPUT_GRACE_MS = 2000;

/** FIFOs for a new process; stderr merges into the pty with a terminal. */
export function prepareStdio(
  id: string,
  io: StdioChoice,
): { fifos: FifoSet; attached: AttachedIO } {
  const fifos = createFifoSet(io.fifoRoot, id, {
    stdin: io.stdin && !io.detach,
    stdout: true,
    stderr: !io.tty,
  });
  // even detached, our read ends must be open while the shim opens its write ends (it waits
  // for a reader); after Start the shim keeps the FIFOs and `tasks attach` opens them again
  return { fifos, attached: attachFifos(fifos) };
}

/**
 * The foreground part of run / start / exec / attach: Wait subscribed before Start (like ctr),
 * stdin copied once the process runs, pty resized on SIGWINCH, signals forwarded without a
 * tty. Returns the exit status once the process exited.
 */
export async function superviseProcess(
  client: ContainerdClient,
  tasks: Client<typeof Tasks>,
  ref: ProcessRef,
  attached: AttachedIO,
  io: { tty: boolean; start: boolean },
): Promise<number> {
  const proc = { containerId: ref.containerId, execId: ref.execId ?? "" };
  const waiting = tasks.wait(proc);
  if (io.start) await tasks.start(proc, client.call());
  const cleanups: (() => void)[] = [];
  if (io.tty) {
    enterRawMode();
    const resize = () => {
      const size = terminalSize();
      if (size) void tasks.resizePty({ ...proc, ...size }, client.call()).catch(() => undefined);
    };
    resize();
    process.on("SIGWINCH", resize);
    cleanups.push(() => process.off("SIGWINCH", resize));
  } else {
    for (const sig of FORWARDED_SIGNALS) {
      const forward = () => {
        void tasks
          .kill({ ...proc, signal: constants.signals[sig] }, client.call())
          .catch(() => undefined);
      };
      process.on(sig, forward);
      cleanups.push(() => process.off(sig, forward));
    }
  }
  attached.startStdin(
    io.tty
      ? undefined
      : () => void tasks.closeIO({ ...proc, stdin: true }, client.call()).catch(() => undefined),
  );
  try {
    const res = await waiting;
    return res.exitStatus;
  } finally {
    for (const c of cleanups) c();
  }
}

/** Waits for the output to drain (bounded), then closes our FIFO ends and removes the dir. */
export async function finishStdio(
  fifos: FifoSet | undefined,
  attached: AttachedIO | undefined,
): Promise<void> {
  if (attached) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      attached.outputDone,
      new Promise((r) => (timer = setTimeout(r, OUTPUT_GRACE_MS))),
    ]);
    clearTimeout(timer);
    attached.close();
  }
  if (fifos) removeFifoSet(fifos);
}
