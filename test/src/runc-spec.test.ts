import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  hasBusybox,
  isRoot,
  type Json,
  readText,
  RUNC_TS_MAIN,
  runcTsSuite,
} from "./runc-support.js";

const skip = !isRoot ? "needs root" : !hasBusybox ? "needs /bin/busybox" : false;

describe("runc-ts applies the OCI spec", { skip }, () => {
  const suite = runcTsSuite("runc-ts-spec-", "rts");
  const bundle = suite.bundle;

  async function runIn(args: string[], mutate?: (c: Json) => void, flags: string[] = []) {
    const { id, b } = bundle(args, mutate);
    const r = await suite.rt.run(["run", ...flags, "--bundle", b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  test("capabilities: the bounding and effective sets of root; ambient caps for a user", async () => {
    const root = await runIn(["grep", "-E", "^Cap(Bnd|Eff)", "/proc/self/status"]);
    assert.match(root, /CapEff:\s+0000000020000420/);
    assert.match(root, /CapBnd:\s+0000000020000420/);
    const user = await runIn(["grep", "-E", "^Cap(Eff|Amb)", "/proc/self/status"], (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      const caps = ["CAP_NET_BIND_SERVICE"];
      c.process.capabilities = {
        bounding: caps,
        effective: caps,
        permitted: caps,
        inheritable: caps,
        ambient: caps,
      };
    });
    assert.match(user, /CapEff:\s+0000000000000400/);
    assert.match(user, /CapAmb:\s+0000000000000400/);
  });

  test("rlimits, oomScoreAdj, sysctl, domainname", async () => {
    const out = await runIn(
      [
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj /proc/sys/kernel/msgmax /proc/sys/kernel/domainname",
      ],
      (c) => {
        c.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 512, hard: 1000 }];
        c.process.oomScoreAdj = 123;
        c.linux.sysctl = { "kernel.msgmax": "4096" };
        c.domainname = "example.org";
      },
    );
    assert.equal(out, "512\n1000\n123\n4096\nexample.org\n");
  });

  test("masked and read-only paths", async () => {
    const out = await runIn([
      "sh",
      "-c",
      "[ -s /proc/kcore ] && echo kcore-visible || echo kcore-masked; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/msgmax 2>/dev/null && echo sys-writable || echo sys-readonly",
    ]);
    assert.equal(out, "kcore-masked\n0\nsys-readonly\n");
  });

  test("seccomp: a profile's rule returns its errno", async () => {
    const out = await runIn(
      ["sh", "-c", "mkdir /dev/shm/x && echo made || echo blocked; echo still-running"],
      (c) => {
        c.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
          syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
        };
      },
    );
    assert.equal(out, "blocked\nstill-running\n");
  });

  test("a bad seccomp profile is refused at create, nothing is left", async () => {
    const { id, b } = bundle(["true"], (c) => {
      c.linux.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_BOGUS" }],
      };
    });
    const r = await suite.rt.run(["create", "--bundle", b.dir, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SCMP_ACT_BOGUS|action/);
    assert.ok(!existsSync(join(suite.rt.root, id)));
  });

  test("--no-pivot runs the container with chroot", async () => {
    assert.equal(
      await runIn(["sh", "-c", "echo $$; ls /bin/busybox"], undefined, ["--no-pivot"]),
      "1\n/bin/busybox\n",
    );
  });

  test("joining an existing network namespace by path", async () => {
    const a = bundle(["sleep", "1000"]);
    const files = { out: join(a.b.dir, "out"), err: join(a.b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", a.b.dir, a.id], { files })).code,
      0,
      readText(files.err),
    );
    const pid = (JSON.parse((await suite.rt.run(["state", a.id])).stdout) as Json).pid as number;
    const out = await runIn(["readlink", "/proc/self/ns/net"], (c) => {
      c.linux.namespaces = c.linux.namespaces.map((ns: Json) =>
        ns.type === "network" ? { type: "network", path: `/proc/${pid}/ns/net` } : ns,
      );
    });
    assert.equal(out.trim(), readlinkSync(`/proc/${pid}/ns/net`));
    assert.notEqual(out.trim(), readlinkSync("/proc/self/ns/net"));
    await suite.rt.run(["delete", "--force", a.id]);
  });

  test("update: flags and --resources - change the cgroup", async () => {
    const { id, b } = bundle(["sleep", "1000"], (c) => {
      c.linux.resources.memory = { limit: 64 * 1024 * 1024 };
    });
    const files = { out: join(b.dir, "out"), err: join(b.dir, "err") };
    assert.equal(
      (await suite.rt.run(["run", "-d", "--bundle", b.dir, id], { files })).code,
      0,
      readText(files.err),
    );
    const u = await suite.rt.run(["update", "--memory", "32m", id]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(
      readText(join("/sys/fs/cgroup/memory", id, "memory.limit_in_bytes")).trim(),
      String(32 * 1024 * 1024),
    );
    const r = await suite.rt.run(["update", "--resources", "-", id], {
      input: JSON.stringify({ pids: { limit: 20 } }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readText(join("/sys/fs/cgroup/pids", id, "pids.max")).trim(), "20");
    const ev = await suite.rt.run(["events", "--stats", id]);
    assert.equal(ev.code, 0, ev.stderr);
    const e = JSON.parse(ev.stdout) as Json;
    assert.equal(e.type, "stats");
    assert.equal(e.id, id);
    await suite.rt.run(["delete", "--force", id]);
  });

  test("--preserve-fds hands extra descriptors to the container", async () => {
    const { id, b } = bundle(["sh", "-c", "cat <&3"]);
    writeFileSync(join(b.dir, "extra"), "through fd 3\n");
    const fd = openSync(join(b.dir, "extra"), "r");
    const child = spawn(
      process.execPath,
      [RUNC_TS_MAIN, "--root", suite.rt.root, "run", "--preserve-fds", "1", "--bundle", b.dir, id],
      {
        stdio: ["ignore", "pipe", "pipe", fd],
      },
    );
    closeSync(fd);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "through fd 3\n");
  });
});
