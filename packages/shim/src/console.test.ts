import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync, constants } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { libc } from "@containerd-ts/sys";
import { ConsoleCopy } from "./console.js";

/** Reads what is there, retrying while the fd has nothing yet (EAGAIN). */
async function readSome(fd: number): Promise<string> {
  const buf = Buffer.alloc(256);
  for (let i = 0; i < 2000; i++) {
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n > 0) return buf.subarray(0, n).toString();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("nothing to read");
}

test("pty master ↔ FIFOs: stdin reaches the terminal, output reaches stdout, EOF when the terminal closes", async () => {
  const sys = libc();
  const dir = mkdtempSync(join(tmpdir(), "shim-console-"));
  const stdin = join(dir, "stdin");
  const stdout = join(dir, "stdout");
  sys.mkfifo(stdin, 0o600);
  sys.mkfifo(stdout, 0o600);
  const pty = sys.openPty();
  // non-blocking: the copy runs on this same thread, a blocking read would stall it
  const slave = openSync(
    pty.slavePath,
    constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK,
  );
  const copy = new ConsoleCopy(sys, pty.master, { stdin, stdout, stderr: "", terminal: true });
  try {
    const reader = new Socket({
      fd: openSync(stdout, constants.O_RDONLY | constants.O_NONBLOCK),
      readable: true,
      writable: false,
    });
    let out = "";
    reader.on("data", (b: Buffer) => (out += b.toString()));
    const ended = new Promise((r) => reader.once("end", r));

    // client → stdin FIFO → master → the terminal's input
    const client = openSync(stdin, constants.O_WRONLY);
    writeSync(client, "hello\n");
    assert.equal(await readSome(slave), "hello\n");

    // the terminal's output → master → stdout FIFO (the echo of the input comes first)
    writeSync(slave, "from-tty\n");
    copy.resize(120, 40);
    closeSync(slave);
    await ended;
    assert.match(out, /hello\r\n/);
    assert.match(out, /from-tty\r\n/);
    copy.closeStdin();
    closeSync(client);
    copy.resize(80, 25); // after the terminal is gone: nothing to do, no error
  } finally {
    copy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
