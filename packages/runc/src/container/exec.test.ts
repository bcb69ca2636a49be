import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs/errors.js";
import { parseArgs } from "../cli/args.js";
import { validateProcess } from "../spec/config.js";
import { execProcessConfig } from "./exec.js";

const base = validateProcess({
  args: ["sleep", "1000"],
  env: ["PATH=/bin"],
  cwd: "/",
  user: { uid: 0, gid: 0 },
  capabilities: {
    bounding: ["CAP_KILL"],
    effective: ["CAP_KILL"],
    permitted: ["CAP_KILL"],
    ambient: [],
  },
  rlimits: [{ type: "RLIMIT_NOFILE", soft: 10, hard: 10 }],
});

const specs = {
  env: { type: "multi" as const, aliases: ["e"] },
  cwd: { type: "string" as const },
  user: { type: "string" as const, aliases: ["u"] },
  tty: { type: "bool" as const, aliases: ["t"] },
  cap: { type: "multi" as const },
  "additional-gids": { type: "multi" as const, aliases: ["g"] },
  "no-new-privs": { type: "bool" as const },
};

test("exec's process: the container's process with the command line's changes", () => {
  const a = parseArgs(
    [
      "-e",
      "A=1",
      "--cwd",
      "/tmp",
      "-u",
      "1000:100",
      "-g",
      "5",
      "--cap",
      "CAP_CHOWN",
      "--no-new-privs",
      "-t",
      "c1",
      "sh",
      "-c",
      "x",
    ],
    specs,
    true,
  );
  const p = execProcessConfig(base, a);
  assert.deepEqual(p.args, ["sh", "-c", "x"]);
  assert.deepEqual(p.env, ["PATH=/bin", "A=1"]);
  assert.equal(p.cwd, "/tmp");
  assert.deepEqual(p.user, { uid: 1000, gid: 100, additionalGids: [5] });
  assert.equal(p.terminal, true);
  assert.equal(p.noNewPrivileges, true);
  assert.deepEqual(p.capabilities?.bounding, ["CAP_KILL", "CAP_CHOWN"]);
  assert.deepEqual(p.rlimits, base.rlimits);
  assert.deepEqual(base.env, ["PATH=/bin"], "the container's process is not modified");
});

test("exec refuses an empty command, a bad user and an unknown capability", () => {
  const bad = (argv: string[]) =>
    assert.throws(
      () => execProcessConfig(base, parseArgs(argv, specs, true)),
      (e: unknown) => kindOf(e) === ErrorKind.InvalidArgument,
    );
  bad(["c1"]);
  bad(["-u", "root", "c1", "sh"]);
  bad(["--cap", "CAP_NOPE", "c1", "sh"]);
});
