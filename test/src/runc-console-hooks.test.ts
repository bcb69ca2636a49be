import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM, isSyscallError, libc } from "@containerd-ts/sys";
import {
  cgroupDirs,
  hasBusybox,
  isRoot,
  type Json,
  readText,
  runcTsSuite,
} from "./runc-support.js";

const skip = !isRoot ? "needs root" : !hasBusybox ? "needs /bin/busybox" : false;
const SOCK_NONBLOCK = 0o4000;

/** A console socket like the shim's: accepts one connection and receives the pty master. */
async function receiveConsole(path: string, done: Promise<unknown>): Promise<number> {
  const sys = libc();
  const listener = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  try {
    sys.bind(listener, path);
    sys.listen(listener, 1);
    let finished = false;
    void done.then(() => (finished = true));
    for (;;) {
      try {
        const conn = sys.accept(listener);
        try {
          const msg = sys.recvFds(conn, 1, 4096);
          assert.equal(msg.fds.length, 1, "one fd over SCM_RIGHTS");
          return msg.fds[0]!;
        } finally {
          sys.close(conn);
        }
      } catch (e) {
        if (!isSyscallError(e, "EAGAIN")) throw e;
        if (finished)
          throw new Error("the runtime exited without connecting to the console socket");
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } finally {
    sys.close(listener);
  }
}

/** Reads the pty master until the slave side is gone (EIO). */
function drain(master: number): string {
  const buf = Buffer.alloc(4096);
  let out = "";
  for (;;) {
    try {
      const n = readSync(master, buf, 0, buf.length, null);
      if (n === 0) break;
      out += buf.subarray(0, n).toString();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EIO") break;
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      throw e;
    }
  }
  return out;
}

describe("runc-ts console socket and hooks", { skip }, () => {
  const suite = runcTsSuite("runc-ts-tty-", "rtc");
  const bundle = suite.bundle;

  test("a terminal: the pty master arrives over --console-socket, the process has a tty of the right size", async () => {
    const { id, b } = bundle(["sh", "-c", "tty; stty size; echo done"], (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 99 };
    });
    const sock = join(suite.work, `${id}.sock`);
    const creating = suite.rt.spawn(["create", "--bundle", b.dir, "--console-socket", sock, id]);
    const master = await receiveConsole(sock, creating.done);
    try {
      const created = await creating.done;
      assert.equal(created.code, 0, created.stderr);
      assert.equal((await suite.rt.run(["start", id])).code, 0);
      const text = drain(master);
      assert.match(text, /\/dev\/pts\/\d+\r?\n/);
      assert.match(text, /33 99\r?\n/);
      assert.match(text, /done/);
    } finally {
      closeSync(master);
    }
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
  });

  test("exec --tty hands its own pty master over --console-socket", async () => {
    const { id, b } = bundle(["sleep", "1000"]);
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const sock = join(suite.work, `${id}-exec.sock`);
    const exec = suite.rt.spawn([
      "exec",
      "--tty",
      "--console-socket",
      sock,
      id,
      "sh",
      "-c",
      "tty; echo exec-$((6*7)); exit 3",
    ]);
    const master = await receiveConsole(sock, exec.done);
    let text: string;
    try {
      text = drain(master);
    } finally {
      closeSync(master);
    }
    const r = await exec.done;
    assert.equal(r.code, 3, r.stderr);
    assert.match(text, /\/dev\/pts\/\d+\r?\n/);
    assert.match(text, /exec-42/);
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
  });

  test("create with a terminal but no console socket is refused before anything is created", async () => {
    const { id, b } = bundle(["sh"], (c) => {
      c.process.terminal = true;
    });
    const r = await suite.rt.run(["create", "--bundle", b.dir, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /console socket/);
    assert.ok(!existsSync(join(suite.rt.root, id)));
  });

  test("a foreground run/exec with a terminal proxies its own pty (like runc's tty.go)", async () => {
    const { id, b } = bundle(["sh", "-c", "tty; echo fg-run; exit 6"], (c) => {
      c.process.terminal = true;
    });
    const r = await suite.rt.run(["run", "--bundle", b.dir, id]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n/);
    assert.match(r.stdout, /fg-run\r\n/);
    const s = bundle(["sleep", "1000"]);
    const files = { out: join(s.b.dir, "out"), err: join(s.b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", s.b.dir, s.id], { files })).code,
      0,
      readText(files.err),
    );
    const e = await suite.rt.run(["exec", "-t", s.id, "sh", "-c", "tty; exit 4"]);
    assert.equal(e.code, 4, e.stderr);
    assert.match(e.stdout, /\/dev\/pts\/\d+\r\n/);
    assert.equal((await suite.rt.run(["delete", "--force", s.id])).code, 0);
  });

  test("hooks run in order with the state on stdin", async () => {
    const out = join(suite.work, "hooks-out");
    mkdirSync(out, { recursive: true });
    const hook = (name: string, where = out) => ({
      path: "/bin/sh",
      args: ["sh", "-c", `cat > ${where}/${name}.json; echo ${name} >> ${where}/order`],
      timeout: 10,
    });
    const { id, b } = bundle(["true"], (c) => {
      c.mounts.push({ destination: "/hooks", type: "bind", source: out, options: ["rbind", "rw"] });
      c.hooks = {
        prestart: [hook("prestart")],
        createRuntime: [hook("createRuntime")],
        createContainer: [hook("createContainer")],
        startContainer: [hook("startContainer", "/hooks")],
        poststart: [hook("poststart")],
        poststop: [hook("poststop")],
      };
    });
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    const created = await suite.rt.run(["create", "--bundle", b.dir, id], { files });
    assert.equal(created.code, 0, readText(files.err));
    assert.equal(readText(join(out, "order")), "prestart\ncreateRuntime\ncreateContainer\n");
    const st = JSON.parse(readFileSync(join(out, "createRuntime.json"), "utf8")) as Json;
    assert.equal(st.id, id);
    assert.equal(st.bundle, b.dir);
    assert.ok(st.pid > 0);
    assert.equal((await suite.rt.run(["start", id])).code, 0, readText(files.err));
    assert.equal((await suite.rt.run(["delete", "--force", id])).code, 0);
    assert.equal(
      readText(join(out, "order")),
      "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n",
    );
    assert.equal(
      (JSON.parse(readFileSync(join(out, "poststop.json"), "utf8")) as Json).status,
      "stopped",
    );
  });

  test("a hook that outlives its timeout fails create and leaves nothing behind", async () => {
    const { id, b } = bundle(["true"], (c) => {
      c.hooks = { createRuntime: [{ path: "/bin/sleep", args: ["sleep", "30"], timeout: 1 }] };
    });
    const r = await suite.rt.run(["create", "--bundle", b.dir, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /timeout/);
    assert.ok(!existsSync(join(suite.rt.root, id)));
    assert.deepEqual(cgroupDirs(`/${id}`), []);
  });
});
