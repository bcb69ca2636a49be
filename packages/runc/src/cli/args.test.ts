import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "./args.js";

const specs = {
  bundle: { type: "string" as const, aliases: ["b"] },
  detach: { type: "bool" as const, aliases: ["d"] },
  "preserve-fds": { type: "int" as const },
  env: { type: "multi" as const, aliases: ["e"] },
};

test("Go-style flags: single or double dash, = or separate value", () => {
  const r = parseArgs(
    ["--bundle", "/b", "-d", "-preserve-fds=2", "-e", "A=1", "--env=B=2", "id"],
    specs,
  );
  assert.deepEqual(r.flags, { bundle: "/b", detach: true, "preserve-fds": 2, env: ["A=1", "B=2"] });
  assert.deepEqual(r.positionals, ["id"]);
});

test("flags may follow positionals unless the command stops at the first one", () => {
  assert.deepEqual(parseArgs(["id", "--detach"], specs).flags, { detach: true });
  const exec = parseArgs(["-d", "id", "sh", "-c", "echo"], specs, true);
  assert.deepEqual(exec.flags, { detach: true });
  assert.deepEqual(exec.positionals, ["id", "sh", "-c", "echo"]);
});

test("bools accept =false; unknown flags and missing values are usage errors", () => {
  assert.deepEqual(parseArgs(["--detach=false"], specs).flags, { detach: false });
  assert.throws(() => parseArgs(["--nope"], specs), UsageError);
  assert.throws(() => parseArgs(["--bundle"], specs), UsageError);
  assert.throws(() => parseArgs(["--preserve-fds", "x"], specs), UsageError);
  assert.deepEqual(parseArgs(["--", "-x"], specs).positionals, ["-x"]);
});
