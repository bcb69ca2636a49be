import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, mkdirSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import * as net from "node:net";

/**
 * containerd's cio FIFO set: `<fifo root>/<random>/<id>-stdin|-stdout|-stderr`. The shim opens
 * the other ends; the client must hold its ends open before Tasks/Create.
 */
export interface FifoSet {
  dir: string;
  stdin: string;
  stdout: string;
  /** "" with a terminal: the pty merges stderr into stdout */
  stderr: string;
}

/** Root of the FIFO dirs: /run/containerd-ts/fifo for root, a temp dir otherwise. */
export function defaultFifoRoot(): string {
  if (process.env.CTR_TS_FIFO_DIR) return process.env.CTR_TS_FIFO_DIR;
  return process.getuid?.() === 0
    ? "/run/containerd-ts/fifo"
    : join(tmpdir(), "containerd-ts-fifo");
}

export interface FifoWanted {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** Makes the FIFOs (mkfifo from coreutils: Node has no mkfifo, and one exec makes all three). */
export function createFifoSet(root: string, id: string, want: FifoWanted): FifoSet {
  const dir = join(root, randomBytes(8).toString("hex"));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const set: FifoSet = {
    dir,
    stdin: want.stdin ? join(dir, `${id}-stdin`) : "",
    stdout: want.stdout ? join(dir, `${id}-stdout`) : "",
    stderr: want.stderr ? join(dir, `${id}-stderr`) : "",
  };
  const paths = [set.stdin, set.stdout, set.stderr].filter((p) => p !== "");
  if (paths.length > 0) execFileSync("mkfifo", ["-m", "0700", ...paths]);
  return set;
}

/** The FIFO set a task was created with, recovered from its recorded paths (for attach). */
export function fifoSetOf(paths: { stdin: string; stdout: string; stderr: string }): FifoSet {
  const any = paths.stdout || paths.stdin || paths.stderr;
  return { dir: any ? dirname(any) : "", ...paths };
}

/** Removes a FIFO dir made by createFifoSet (only that shape: a hex-named dir of FIFOs). */
export function removeFifoSet(set: FifoSet): void {
  if (set.dir && /^[0-9a-f]{16}$/.test(basename(set.dir)))
    rmSync(set.dir, { recursive: true, force: true });
}

/**
 * Our read end: O_NONBLOCK so opening does not wait for the shim; Linux reports hang-up on
 * a FIFO only after a writer has come and gone, so the stream ends when the shim closes it.
 */
export function openFifoReader(path: string): net.Socket {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}

/**
 * Our write end: O_RDWR never blocks and never fails with ENXIO while the shim has not
 * opened its read end yet; closing it is the container's EOF.
 */
export function openFifoWriter(path: string): net.Socket {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return new net.Socket({ fd, readable: false, writable: true });
}
