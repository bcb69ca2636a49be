import { mkdtempSync, openSync, rmSync, writeSync, constants } from "node:fs";
import { createServer, Socket, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadStream } from "node:tty";
import { errInternal } from "@containerd-ts/errdefs/errors.js";
import { isSyscallError } from "@containerd-ts/sys";
import { closeQuietly, type StdioPaths } from "./stdio.js";
import type { ShimSys } from "./sys.js";

const F_DUPFD_CLOEXEC = 1030;

/**
 * The temporary unix socket a runtime sends the pty master to (`--console-socket`), as
 * go-runc's NewTempConsoleSocket: `<tmp>/pty<random>/pty.sock`.
 */
export class ConsoleSocket {
  readonly path: string;
  private readonly dir: string;
  private readonly server: Server;
  private readonly conns: Socket[] = [];
  private waiting: (() => void) | undefined;

  private constructor(private readonly sys: ShimSys) {
    this.dir = mkdtempSync(join(tmpdir(), "pty"));
    this.path = join(this.dir, "pty.sock");
    // paused: the master travels as ancillary data, read with recvmsg, not by Node
    this.server = createServer({ pauseOnConnect: true }, (c) => {
      this.conns.push(c);
      this.waiting?.();
    });
  }

  static async create(sys: ShimSys): Promise<ConsoleSocket> {
    const s = new ConsoleSocket(sys);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(s.path, () => resolve());
    });
    return s;
  }

  /** The pty master the runtime sent (waits up to timeoutMs for the connection and message). */
  async receiveMaster(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.conns.length === 0) {
      if (Date.now() > deadline) throw errInternal("timed out waiting for the console master");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const conn = this.conns[0]!;
    const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
    for (;;) {
      try {
        const msg = this.sys.recvFds(fd, 1, 4096);
        if (msg.fds.length === 0) throw errInternal("console socket message carried no fd");
        for (const extra of msg.fds.slice(1)) closeQuietly(extra);
        return msg.fds[0]!;
      } catch (e) {
        if (!isSyscallError(e, "EAGAIN") || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  close(): void {
    for (const c of this.conns) c.destroy();
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Copies between a pty master and the client's FIFOs: stdin FIFO → master, master → stdout
 * FIFO. The master is non-blocking (libuv makes it so), so writes to it go through a small
 * queue retried on EAGAIN instead of a blocking tty stream that could stall the shim.
 */
export class ConsoleCopy {
  private readonly done: Promise<void>;
  private stdinHolder: number | undefined;
  private stdinSource: Socket | undefined;
  private reader: ReadStream | undefined;
  private writeFd: number;
  private queue: Buffer[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sys: ShimSys,
    readonly master: number,
    paths: StdioPaths,
  ) {
    this.writeFd = sys.fcntl(master, F_DUPFD_CLOEXEC, 0);
    let finish!: () => void;
    this.done = new Promise((r) => (finish = r));
    const out = paths.stdout
      ? new Socket({
          fd: openSync(paths.stdout, constants.O_RDWR),
          readable: false,
          writable: true,
        })
      : undefined;
    const reader = new ReadStream(master);
    this.reader = reader;
    const end = () => {
      if (out && !out.destroyed) out.end();
      finish();
    };
    reader.on("data", (chunk: Buffer) => {
      if (out && !out.write(chunk)) {
        reader.pause();
        out.once("drain", () => reader.resume());
      }
    });
    // EIO once every slave fd is closed: the container side is gone
    reader.on("error", end);
    reader.on("end", end);
    reader.on("close", end);
    out?.on("error", () => reader.resume());

    if (paths.stdin) {
      const src = openSync(paths.stdin, constants.O_RDONLY | constants.O_NONBLOCK);
      this.stdinHolder = openSync(paths.stdin, constants.O_WRONLY | constants.O_NONBLOCK);
      const sock = new Socket({ fd: src, readable: true, writable: false });
      this.stdinSource = sock;
      sock.on("data", (chunk: Buffer) => this.enqueue(chunk));
      sock.on("error", () => undefined);
    }
  }

  resize(width: number, height: number): void {
    // after the container side is gone there is nothing left to resize
    if (this.closed || this.reader?.destroyed) return;
    this.sys.ioctlSetWinsize(this.master, height, width);
  }

  closeStdin(): void {
    if (this.stdinHolder !== undefined) closeQuietly(this.stdinHolder);
    this.stdinHolder = undefined;
  }

  /** Resolves when the container side closed (or after timeoutMs). */
  wait(timeoutMs: number): Promise<void> {
    return Promise.race([this.done, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeStdin();
    this.stdinSource?.destroy();
    this.reader?.destroy();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    closeQuietly(this.writeFd);
  }

  private enqueue(chunk: Buffer): void {
    this.queue.push(chunk);
    if (this.queued() > 1 << 16) this.stdinSource?.pause();
    this.flush();
  }

  private queued(): number {
    return this.queue.reduce((n, b) => n + b.length, 0);
  }

  private flush(): void {
    if (this.flushTimer || this.closed) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      let n: number;
      try {
        n = writeSync(this.writeFd, head);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
          this.flushTimer = setTimeout(() => {
            this.flushTimer = undefined;
            this.flush();
          }, 10);
          return;
        }
        this.queue = [];
        return;
      }
      if (n < head.length) this.queue[0] = head.subarray(n);
      else this.queue.shift();
    }
    this.stdinSource?.resume();
  }
}
