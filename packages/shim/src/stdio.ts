import { closeSync, mkdirSync, openSync, statSync, constants } from "node:fs";
import { dirname } from "node:path";
import { errNotImplemented } from "@containerd-ts/errdefs/errors.js";
import type { RuntimeIO } from "./runtime.js";

/** The stdio a client asked for: FIFO paths as containerd's cio makes them, or file:// URIs. */
export interface StdioPaths {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/** A stdio target: its path and whether it is a log file rather than a FIFO. */
function parseTarget(uri: string): { path: string; file: boolean } {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri);
  if (!m) return { path: uri, file: false };
  const scheme = m[1]!.toLowerCase();
  if (scheme === "fifo") return { path: uri.slice(m[0].length - 1), file: false };
  if (scheme === "file") return { path: decodeURIComponent(new URL(uri).pathname), file: true };
  // binary:// is served by BinaryIO before a target is ever parsed
  throw errNotImplemented(`unsupported stdio scheme ${scheme}`);
}

function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/**
 * Opens an output target for the container to write to directly. A FIFO is opened O_RDWR:
 * it never blocks or fails for want of a reader, and the container never gets EPIPE while the
 * daemon is away (the real shim keeps a reader open for the same reason). The daemon sees EOF
 * when the container's processes are gone, because the shim keeps no copy.
 */
function openOutput(uri: string): number {
  const t = parseTarget(uri);
  if (!t.file && isFifo(t.path)) return openSync(t.path, constants.O_RDWR);
  if (t.file) mkdirSync(dirname(t.path), { recursive: true });
  return openSync(
    t.path,
    constants.O_WRONLY | constants.O_APPEND | (t.file ? constants.O_CREAT : 0),
    0o644,
  );
}

/**
 * Non-terminal stdio: the FIFOs themselves become the container's stdin/stdout/stderr (no copy
 * through the shim, so `echo > /dev/stdout` works as on a pipe). For stdin the shim holds a
 * writer until CloseIO, so the container reads EOF only after CloseIO and the client's close.
 */
export class PipeIO {
  private containerFds: number[] = [];
  private stdinHolder: number | undefined;

  private constructor(readonly runtimeIO: RuntimeIO) {}

  static open(paths: StdioPaths): PipeIO {
    const opened: number[] = [];
    const track = (fd: number) => (opened.push(fd), fd);
    try {
      const io: RuntimeIO = {};
      let holder: number | undefined;
      if (paths.stdin) {
        const t = parseTarget(paths.stdin);
        // the holder first: with a writer present, the blocking read-only open returns at once
        holder = openSync(t.path, constants.O_RDWR);
        io.stdin = track(openSync(t.path, constants.O_RDONLY));
      }
      if (paths.stdout) io.stdout = track(openOutput(paths.stdout));
      if (paths.stderr) {
        io.stderr =
          paths.stderr === paths.stdout && io.stdout !== undefined
            ? io.stdout
            : track(openOutput(paths.stderr));
      }
      const p = new PipeIO(io);
      p.containerFds = opened;
      p.stdinHolder = holder;
      return p;
    } catch (e) {
      for (const fd of opened) closeQuietly(fd);
      throw e;
    }
  }

  /** The runtime has passed the fds on: the shim's copies go. */
  closeAfterStart(): void {
    for (const fd of this.containerFds.splice(0)) closeQuietly(fd);
  }

  closeStdin(): void {
    if (this.stdinHolder !== undefined) closeQuietly(this.stdinHolder);
    this.stdinHolder = undefined;
  }

  close(): void {
    this.closeAfterStart();
    this.closeStdin();
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
