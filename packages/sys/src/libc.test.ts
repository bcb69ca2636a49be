import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { libc, decodeWaitStatus } from "./libc.js";
import { isSyscallError } from "./errors.js";
import {
  AF_UNIX,
  F_GETFD,
  FD_CLOEXEC,
  O_CLOEXEC,
  O_RDONLY,
  P_PID,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  WEXITED,
  WNOWAIT,
} from "./constants.js";

const isRoot = process.getuid?.() === 0;
const indexUrl = new URL("./index.js", import.meta.url).href;

/** Runs an ESM snippet in a fresh node that has this package loaded as `sys`. */
function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
  const src = `import * as sys from ${JSON.stringify(indexUrl)};\n${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", src], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("errno is captured in the same call and names the path", () => {
  assert.throws(
    () => libc().chdir("/definitely/not/here"),
    (e: unknown) =>
      isSyscallError(e, "ENOENT") && e.syscall === "chdir" && e.path === "/definitely/not/here",
  );
  assert.throws(
    () => libc().close(987654),
    (e: unknown) => isSyscallError(e, "EBADF"),
  );
});

test("open/fcntl/close and mkfifo work on real files", () => {
  const dir = mkdtempSync(join(tmpdir(), "sys-"));
  try {
    const fifo = join(dir, "fifo");
    libc().mkfifo(fifo, 0o622);
    assert.ok(statSync(fifo).isFIFO());
    const fd = libc().open(dir, O_RDONLY | O_CLOEXEC);
    assert.equal(libc().fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    libc().close(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SCM_RIGHTS: a descriptor sent with sendFds arrives with recvFds", () => {
  const dir = mkdtempSync(join(tmpdir(), "sys-"));
  const s = libc();
  const fds: number[] = [];
  try {
    const path = join(dir, "sock");
    writeFileSync(join(dir, "payload"), "through the socket");
    const listener = s.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fds.push(listener);
    s.bind(listener, path);
    s.listen(listener, 1);
    const client = s.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fds.push(client);
    s.connect(client, path);
    const server = s.accept(listener);
    fds.push(server);
    const file = s.open(join(dir, "payload"), O_RDONLY | O_CLOEXEC);
    fds.push(file);
    s.sendFds(client, [file], Buffer.from("name"));
    const msg = s.recvFds(server, 4, 64);
    assert.equal(msg.data.toString(), "name");
    assert.equal(msg.fds.length, 1);
    fds.push(msg.fds[0]!);
    const buf = Buffer.alloc(64);
    const n = readSync(msg.fds[0]!, buf, 0, 64, 0);
    assert.equal(buf.subarray(0, n).toString(), "through the socket");
  } finally {
    for (const fd of fds) s.close(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("peerCredentials: SO_PEERCRED names the process at the other end", () => {
  const dir = mkdtempSync(join(tmpdir(), "sys-"));
  const s = libc();
  const fds: number[] = [];
  try {
    const path = join(dir, "sock");
    const listener = s.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fds.push(listener);
    s.bind(listener, path);
    s.listen(listener, 1);
    const client = s.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fds.push(client);
    s.connect(client, path);
    const server = s.accept(listener);
    fds.push(server);
    assert.deepEqual(s.peerCredentials(server), {
      pid: process.pid,
      uid: process.getuid!(),
      gid: process.getgid!(),
    });
    assert.throws(
      () => s.peerCredentials(listener + 1000),
      (e) => isSyscallError(e) && e.syscall === "getsockopt",
    );
  } finally {
    for (const fd of fds) s.close(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("waitid with WNOWAIT peeks at an exit without stealing it from Node", async () => {
  const child = spawn("/bin/sh", ["-c", "exit 7"]);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const info = libc().waitid(P_PID, child.pid!, WEXITED | WNOWAIT);
  assert.equal(info.pid, child.pid);
  assert.equal(info.code, 1 /* CLD_EXITED */);
  assert.equal(info.status, 7);
  assert.equal(await exited, 7);
});

test("wait statuses decode exit codes and signals", () => {
  assert.deepEqual(decodeWaitStatus(5, 3 << 8), { pid: 5, status: 3 << 8, exitCode: 3 });
  assert.deepEqual(decodeWaitStatus(5, 9), { pid: 5, status: 9, signal: 9 });
});

test("execve replaces the Node process; argv/envp are NULL-terminated; fds 0-2 survive", () => {
  const r = runChild(
    `sys.libc().execve("/bin/sh", ["sh", "-c", "echo $GREETING $0; exit 3"], ["GREETING=hi"], [0, 1, 2]);`,
  );
  assert.equal(r.stdout, "hi sh\n");
  assert.equal(r.status, 3);
});

test("resetSignals: the exec'd program does not inherit Node's ignored SIGPIPE/SIGXFSZ", () => {
  const r = runChild(
    `sys.libc().resetSignals();
     sys.libc().execve("/bin/sh", ["sh", "-c", "grep SigIgn /proc/self/status"], [], [0, 1, 2]);`,
  );
  assert.match(r.stdout, /SigIgn:\s+0+\n/, r.stderr);
});

test("a failing execve throws a SyscallError naming the path", () => {
  assert.throws(
    () => libc().execve("/no/such/binary", ["x"], [], []),
    (e: unknown) => isSyscallError(e, "ENOENT") && e.path === "/no/such/binary",
  );
});

test("unshare of a user namespace fails in multithreaded Node (EINVAL)", () => {
  const r = runChild(
    `try { sys.libc().unshare(sys.CLONE_NEWUSER); console.log("ok"); } catch (e) { console.log(e.code); }`,
  );
  assert.equal(r.stdout.trim(), "EINVAL");
});

test(
  "unshare(CLONE_NEWUTS) on the main thread then sethostname",
  { skip: !isRoot && "needs root" },
  () => {
    const r = runChild(
      `import { hostname } from "node:os";
     sys.libc().unshare(sys.CLONE_NEWUTS); sys.libc().sethostname("sys-test-host"); console.log(hostname());`,
    );
    assert.equal(r.stdout.trim(), "sys-test-host", r.stderr);
  },
);

test("prctl child subreaper round-trips", () => {
  const r = runChild(
    `const s = sys.libc(); s.prctl(sys.PR_SET_CHILD_SUBREAPER, 1);
     console.log(s.prctl(sys.PR_GET_CHILD_SUBREAPER === 37 ? sys.PR_GET_NO_NEW_PRIVS : 0));`,
  );
  assert.equal(r.stdout.trim(), "0", r.stderr);
});

test("joinSessionKeyring gives the process a new session keyring", () => {
  const r = runChild(
    `const serial = sys.libc().joinSessionKeyring("_ses.systest");
     const keys = (await import("node:fs")).readFileSync("/proc/keys", "utf8");
     console.log(serial > 0, keys.includes("_ses.systest"));`,
  );
  assert.equal(r.stdout.trim(), "true true", r.stderr);
});

test("exitNow ends the process at once with the code", () => {
  const r = runChild(`setInterval(() => {}, 1000); sys.libc().exitNow(7);`);
  assert.equal(r.status, 7);
});
