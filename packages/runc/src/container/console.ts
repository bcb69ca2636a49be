import { closeSync, createReadStream, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM } from "@containerd-ts/sys/constants.js";
import { libc } from "@containerd-ts/sys/libc.js";

/** Connects to a --console-socket; the init sends the pty master over it. */
export function connectConsole(path: string): number {
  const sys = libc();
  const fd = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  try {
    sys.connect(fd, path);
  } catch (e) {
    sys.close(fd);
    throw e;
  }
  return fd;
}

/**
 * A console socket of our own, for a foreground `run`/`exec` with a terminal and no
 * --console-socket (runc's tty.go does the same): `childFd` goes to the init, `receive()`
 * returns the pty master once the init has sent it.
 */
export function ownConsole(dir: string): { childFd: number; receive(): number; close(): void } {
  const sys = libc();
  const path = join(dir, `console-${process.pid}.sock`);
  const listener = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  let server = -1;
  let client = -1;
  try {
    sys.bind(listener, path);
    sys.listen(listener, 1);
    client = connectConsole(path);
    server = sys.accept(listener);
  } finally {
    sys.close(listener);
    unlinkSync(path);
  }
  const close = () => {
    if (server >= 0) sys.close(server);
    server = -1;
  };
  return {
    childFd: client,
    receive() {
      const msg = sys.recvFds(server, 1, 4096);
      close();
      const master = msg.fds[0];
      if (master === undefined) throw new Error("console: no pty master received");
      return master;
    },
    close,
  };
}

/**
 * Copies between our stdio and the container's pty until the container side closes (EIO);
 * our terminal goes raw and window size changes follow. Returns a function that undoes it.
 */
export function proxyConsole(master: number): { done: Promise<void>; stop(): void } {
  const sys = libc();
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  const resize = () => {
    if (process.stdout.isTTY)
      sys.ioctlSetWinsize(master, process.stdout.rows, process.stdout.columns);
  };
  if (raw) stdin.setRawMode(true);
  resize();
  process.on("SIGWINCH", resize);
  const onInput = (b: Buffer) => {
    try {
      writeSync(master, b);
    } catch {
      // the container is gone
    }
  };
  stdin.on("data", onInput);
  const reader = createReadStream("", { fd: master, autoClose: false });
  const done = new Promise<void>((resolve) => {
    reader.on("data", (b) => process.stdout.write(b));
    // EIO once the last slave descriptor is closed: that is the end of the session
    reader.on("error", () => resolve());
    reader.on("end", () => resolve());
  });
  const stop = () => {
    process.off("SIGWINCH", resize);
    stdin.off("data", onInput);
    stdin.pause();
    if (raw) stdin.setRawMode(false);
    reader.destroy();
    try {
      closeSync(master);
    } catch {
      // the read stream may have closed it on EIO already
    }
  };
  return { done, stop };
}
