import type { ConsoleCopy, ConsoleSocket } from "./console.js";
import type { RuntimeIO } from "./runtime.js";
import { PipeIO, type StdioPaths } from "./stdio.js";
import type { ShimSys } from "./sys.js";

/**
 * One process's stdio across its life: prepared before the runtime call (FIFO fds or a console
 * socket), finished after it (close the shim's copies, or receive the pty master and start
 * copying), then CloseIO, resize, drain and close.
 */
/** Non-terminal stdio: FIFOs/files handed over as they are, or a logging binary's pipes. */
interface DirectIO {
  readonly runtimeIO: RuntimeIO;
  closeAfterStart(): void;
  closeStdin(): void;
  close(): void;
}

export class ProcessIO {
  private pipe: DirectIO | undefined;
  private socket: ConsoleSocket | undefined;
  private console: ConsoleCopy | undefined;

  private constructor(
    private readonly sys: ShimSys,
    readonly paths: StdioPaths,
  ) {}

  /** `id` and `namespace` are what a logging binary is told (CONTAINER_ID, CONTAINER_NAMESPACE). */
  static async prepare(
    sys: ShimSys,
    paths: StdioPaths,
    id: string,
    namespace: string,
  ): Promise<ProcessIO> {
    const io = new ProcessIO(sys, paths);
    // pty and logging-binary code is loaded on first use: most shims never need it
    if (paths.terminal) {
      const { ConsoleSocket } = await import("./console.js");
      io.socket = await ConsoleSocket.create(sys);
    } else if (paths.stdout.startsWith("binary://")) {
      const { BinaryIO } = await import("./binary-io.js");
      io.pipe = await BinaryIO.open(sys, paths.stdout, id, namespace);
    } else io.pipe = PipeIO.open(paths);
    return io;
  }

  /** What the runtime call gets: its stdio fds, or the console socket path. */
  get runtimeOptions(): { io?: RuntimeIO; consoleSocket?: string } {
    return this.socket ? { consoleSocket: this.socket.path } : { io: this.pipe!.runtimeIO };
  }

  /** After a successful runtime create/exec. */
  async established(): Promise<void> {
    if (this.pipe) {
      this.pipe.closeAfterStart();
      return;
    }
    const socket = this.socket!;
    try {
      const master = await socket.receiveMaster();
      const { ConsoleCopy } = await import("./console.js");
      this.console = new ConsoleCopy(this.sys, master, this.paths);
    } finally {
      socket.close();
      this.socket = undefined;
    }
  }

  closeStdin(): void {
    this.pipe?.closeStdin();
    this.console?.closeStdin();
  }

  resize(width: number, height: number): void {
    this.console?.resize(width, height);
  }

  /** Gives the output copy a moment to finish before Delete tears it down. */
  async drain(timeoutMs: number): Promise<void> {
    await this.console?.wait(timeoutMs);
  }

  close(): void {
    this.pipe?.close();
    this.socket?.close();
    this.console?.close();
    this.socket = undefined;
  }
}
