import { after, before } from "node:test";
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultSpec } from "@containerd-ts/runc/spec/default.js";

/** Helpers of the runc-ts e2e tests: busybox bundles, a temp state root, runtime invocations. */

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "..", "..");
export const RUNC_TS_MAIN = join(REPO, "packages", "runc", "dist", "cli", "main.js");
export const isRoot = process.getuid?.() === 0;
export const hasBusybox = existsSync("/bin/busybox");
export const hasRunc = spawnSync("sh", ["-c", "command -v runc"]).status === 0;

const APPLETS = [
  "sh",
  "echo",
  "cat",
  "ps",
  "sleep",
  "hostname",
  "id",
  "true",
  "mount",
  "ls",
  "pwd",
  "touch",
  "tty",
  "grep",
  "env",
  "stty",
  "readlink",
  "mkdir",
  "wc",
];

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** runc's default config.json (runc-ts spec), adjusted for non-interactive tests. */
export function baseConfig(args: string[]): Json {
  const c = structuredClone(defaultSpec()) as Json;
  c.process.terminal = false;
  c.process.args = args;
  return c;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  write(config: Json): void;
}

/** A temp bundle with a busybox rootfs (busybox copied, applets symlinked). */
export function makeBundle(parent: string, name: string, config: Json): Bundle {
  const dir = join(parent, name);
  const rootfs = join(dir, "rootfs");
  for (const d of ["bin", "proc", "dev", "sys", "tmp", "etc", "root"])
    mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  spawnSync("chmod", ["755", join(rootfs, "bin", "busybox")]);
  for (const a of APPLETS) symlinkSync("busybox", join(rootfs, "bin", a));
  writeFileSync(
    join(rootfs, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n",
  );
  writeFileSync(join(rootfs, "etc", "group"), "root:x:0:\nuser:x:1000:\n");
  const b: Bundle = {
    dir,
    rootfs,
    write(c) {
      writeFileSync(join(dir, "config.json"), JSON.stringify(c, null, 2));
    },
  };
  b.write(config);
  return b;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Runtime {
  name: string;
  root: string;
  /** runs a command to completion; container stdio goes to files when `files` is given */
  run(
    args: string[],
    opts?: { cwd?: string; input?: string; files?: { out: string; err: string } },
  ): Promise<Result>;
  /** starts a command without waiting (for console sockets) */
  spawn(args: string[], opts?: { cwd?: string }): { done: Promise<Result> };
}

function collect(
  argv: string[],
  cwd: string | undefined,
  input: string | undefined,
  files?: { out: string; err: string },
): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const fdOut = files ? openSync(files.out, "a") : undefined;
    const fdErr = files ? openSync(files.err, "a") : undefined;
    // with files, the runtime's own output lands in the files too (the container inherits them)
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      stdio: [input === undefined ? "ignore" : "pipe", fdOut ?? "pipe", fdErr ?? "pipe"],
    });
    if (fdOut !== undefined) closeSync(fdOut);
    if (fdErr !== undefined) closeSync(fdErr);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    if (input !== undefined) child.stdin!.end(input);
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export function runtime(kind: "runc-ts" | "runc", root: string): Runtime {
  const base =
    kind === "runc" ? ["runc", "--root", root] : [process.execPath, RUNC_TS_MAIN, "--root", root];
  return {
    name: kind,
    root,
    run: (args, opts = {}) => collect([...base, ...args], opts.cwd, opts.input, opts.files),
    spawn: (args, opts = {}) => ({ done: collect([...base, ...args], opts.cwd, undefined) }),
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Host mount points under `path` (from our mountinfo). */
export function mountsUnder(path: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === path || m.startsWith(path + "/"));
}

/** cgroup v1/v2 directories named like the container's cgroupsPath that still exist. */
export function cgroupDirs(cgroupsPath: string): string[] {
  const out: string[] = [];
  const root = "/sys/fs/cgroup";
  const candidates = existsSync(join(root, "cgroup.controllers"))
    ? [root]
    : readdirSync(root).map((d) => join(root, d));
  for (const c of candidates) if (existsSync(join(c, cgroupsPath))) out.push(join(c, cgroupsPath));
  return out;
}

export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export async function waitFor(cond: () => boolean, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/**
 * The fixture every runc-ts e2e suite shares: a work dir, runc-ts on a state root inside it, and
 * `bundle()` for busybox bundles whose containers are force-deleted (and the dir removed) after
 * the suite, even when a test failed. Call it inside describe(); its fields are set in before().
 */
export function runcTsSuite(dirPrefix: string, idPrefix: string) {
  const ids: string[] = [];
  let n = 0;
  const suite = {
    work: "",
    rt: undefined as unknown as Runtime,
    bundle(args: string[], mutate?: (c: Json) => void): { id: string; b: Bundle } {
      const c = baseConfig(args);
      mutate?.(c);
      const id = `${idPrefix}${process.pid}-${++n}`;
      ids.push(id);
      return { id, b: makeBundle(suite.work, id, c) };
    },
  };
  before(() => {
    suite.work = tempDir(dirPrefix);
    suite.rt = runtime("runc-ts", join(suite.work, "state"));
  });
  after(async () => {
    for (const id of ids) await suite.rt.run(["delete", "--force", id]);
    removeTree(suite.work);
  });
  return suite;
}
