import { constants, open, promises as fsp } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const openAsync = promisify(open);

/** Where a shim's log lines go: the daemon's stderr by default, as containerd copies them. */
export type ShimLogSink = (chunk: Buffer) => void;

export const stderrSink: ShimLogSink = (chunk) => {
  process.stderr.write(chunk);
};

async function ensureFifo(path: string): Promise<void> {
  try {
    const st = await fsp.lstat(path);
    if (st.isFIFO()) return;
    await fsp.rm(path, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  // Node has no mkfifo(3); the libc layer is loaded on first use (a process start costs ~10 ms)
  const { libc } = await import("@containerd-ts/sys");
  libc().mkfifo(path, 0o700);
}

/**
 * The `log` FIFO of a bundle, read by the daemon for the shim's whole life. The shim opens it
 * for writing (and blocks until a reader exists), so it must be created and opened before
 * the shim starts. Opened read-write so that the reader never sees EOF between writers;
 * read through a libuv pipe handle (epoll), never the thread pool.
 */
export class ShimLog {
  private constructor(private readonly socket: Socket) {}

  static async open(bundlePath: string, sink: ShimLogSink): Promise<ShimLog> {
    const path = join(bundlePath, "log");
    await ensureFifo(path);
    // a plain fd (not a FileHandle, which would close it on GC) owned by the socket from now on
    const fd = await openAsync(path, constants.O_RDWR | constants.O_NONBLOCK);
    const socket = new Socket({ fd, readable: true, writable: false });
    socket.on("data", (chunk: Buffer) => sink(chunk));
    socket.on("error", () => {});
    return new ShimLog(socket);
  }

  close(): void {
    this.socket.destroy();
  }
}
