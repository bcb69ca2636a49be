import type { ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, rmSync, constants } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { F_GETFL, F_SETFL, O_NONBLOCK } from "@containerd-ts/sys";
import type { RuntimeIO } from "./runtime.js";
import { closeQuietly } from "./stdio.js";
import type { ShimSys } from "./sys.js";
import { trackedSpawn } from "./tracked-spawn.js";

/** containerd gives a logging binary 12 s to flush after SIGTERM before it is killed. */
const LOGGER_TERM_TIMEOUT_MS = 12_000;

/**
 * A unidirectional pipe made from a FIFO that is unlinked at once (Node has no pipe(2), and a
 * Node 'pipe' is a socketpair). The read end is left blocking for the process that gets it.
 */
export function makePipe(sys: ShimSys): { r: number; w: number } {
  const dir = mkdtempSync(join(tmpdir(), "shim-pipe-"));
  const path = join(dir, "p");
  try {
    sys.mkfifo(path, 0o600);
    const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const w = openSync(path, constants.O_WRONLY);
    sys.fcntl(r, F_SETFL, sys.fcntl(r, F_GETFL) & ~O_NONBLOCK);
    return { r, w };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `binary:///path?arg=value` stdio (containerd's shim logging plugins): the binary gets the
 * container's stdout and stderr pipes as fds 3 and 4 and a readiness pipe as fd 5, with
 * CONTAINER_ID and CONTAINER_NAMESPACE set; the process starts once the logger is ready.
 */
export class BinaryIO {
  private ours: number[] = [];

  private constructor(
    readonly runtimeIO: RuntimeIO,
    private readonly logger: ChildProcess,
    containerSide: number[],
  ) {
    this.ours = containerSide;
  }

  static async open(sys: ShimSys, uri: string, id: string, namespace: string): Promise<BinaryIO> {
    const u = new URL(uri);
    const args: string[] = [];
    for (const [k, v] of u.searchParams) args.push(k, ...(v ? [v] : []));
    const out = makePipe(sys);
    const err = makePipe(sys);
    const ready = makePipe(sys);
    const all = [out.r, out.w, err.r, err.w, ready.r, ready.w];
    try {
      const logger = trackedSpawn(decodeURIComponent(u.pathname), args, {
        env: { CONTAINER_ID: id, CONTAINER_NAMESPACE: namespace },
        stdio: ["ignore", "ignore", "ignore", out.r, err.r, ready.w],
      });
      await new Promise<void>((resolve, reject) => {
        logger.once("spawn", resolve);
        logger.once("error", reject);
      });
      for (const fd of [out.r, err.r, ready.w]) closeQuietly(fd);
      // ready when the logger writes to or closes fd 5
      await new Promise<void>((resolve) => {
        const s = new Socket({ fd: ready.r, readable: true, writable: false });
        const done = () => {
          s.destroy();
          resolve();
        };
        s.once("data", done);
        s.once("end", done);
        s.once("error", done);
        logger.once("exit", done);
      });
      return new BinaryIO({ stdout: out.w, stderr: err.w }, logger, [out.w, err.w]);
    } catch (e) {
      for (const fd of all) closeQuietly(fd);
      throw e;
    }
  }

  closeAfterStart(): void {
    for (const fd of this.ours.splice(0)) closeQuietly(fd);
  }

  closeStdin(): void {
    // a logging binary takes no stdin
  }

  /** Closes the pipes and stops the logger: SIGTERM, then SIGKILL if it lingers. */
  close(): void {
    this.closeAfterStart();
    if (this.logger.exitCode !== null || this.logger.signalCode !== null) return;
    this.logger.kill("SIGTERM");
    const t = setTimeout(() => this.logger.kill("SIGKILL"), LOGGER_TERM_TIMEOUT_MS);
    t.unref();
    this.logger.once("exit", () => clearTimeout(t));
  }
}
