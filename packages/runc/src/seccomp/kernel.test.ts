// The compiled filters installed for real (in child processes) through packages/sys: the
// kernel's own checker must accept them and the actions must show up as errnos.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { syscallNames, type LinuxSeccomp } from "./index.js";

const supported =
  process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");

/** Installs `profile` in a fresh node, then runs `probe` (a JS expression) and prints its result. */
function underFilter(profile: LinuxSeccomp, probe: string): unknown {
  const script = `
    import fs from "node:fs";
    const { libc: openLibc, PR_SET_NO_NEW_PRIVS } = await import(${JSON.stringify(import.meta.resolve("@containerd-ts/sys"))});
    const { compileSeccomp, seccompFilterFlags } = await import(${JSON.stringify(import.meta.resolve("./index.js"))});
    const profile = JSON.parse(process.env.PROFILE);
    const libc = openLibc();
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1);
    libc.seccompSetFilter(compileSeccomp(profile), seccompFilterFlags(profile));
    const attempt = (fn) => { try { return fn() ?? "ok"; } catch (e) { return e.code; } };
    const result = await (${probe});
    process.stdout.write(JSON.stringify(result));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, PROFILE: JSON.stringify(profile) },
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const dir = () => `/tmp/seccomp-kernel-test-${process.pid}-${Math.random().toString(16).slice(2)}`;

test("kernel accepts a small filter and applies errnoRet", { skip: !supported }, () => {
  const target = dir();
  const result = underFilter(
    {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["mkdir", "mkdirat"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 95 /* EOPNOTSUPP, which node names ENOTSUP */,
        },
      ],
    },
    `[attempt(() => fs.mkdirSync(${JSON.stringify(target)})), attempt(() => fs.readdirSync("/").length > 0)]`,
  );
  assert.deepEqual(result, ["ENOTSUP", true]);
});

test("argument conditions are evaluated by the kernel", { skip: !supported }, () => {
  const result = underFilter(
    {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["kill"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 1, value: 12, op: "SCMP_CMP_EQ" }],
        },
      ],
    },
    `[attempt(() => process.kill(process.pid, "SIGUSR2")), attempt(() => process.kill(process.pid, 0))]`,
  );
  assert.deepEqual(result, ["EPERM", true]);
});

test("a long allow-list filter with x86 and x32 sections runs node", { skip: !supported }, () => {
  const native = process.arch === "x64" ? "x86_64" : "aarch64";
  const target = dir();
  const result = underFilter(
    {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
      syscalls: [
        {
          names: syscallNames(native).filter((n) => n !== "mkdir" && n !== "mkdirat"),
          action: "SCMP_ACT_ALLOW",
        },
      ],
    },
    `[attempt(() => fs.mkdirSync(${JSON.stringify(target)})), attempt(() => fs.statSync("/").isDirectory())]`,
  );
  assert.deepEqual(result, ["EPERM", true]);
});
