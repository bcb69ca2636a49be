import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalTopic, hoistGlobalFlags } from "./global-argv.js";
import { flagShapes, splitCommandLine } from "./split-argv.js";
import { parseDuration } from "./duration.js";
import { aliasIds } from "./aliases.js";

test("global flags before the command id are lifted out", () => {
  assert.deepEqual(
    hoistGlobalFlags(["-n", "foo", "--address=/s", "--json", "containers", "ls", "-q"]),
    {
      global: ["-n", "foo", "--address=/s", "--json"],
      rest: ["containers", "ls", "-q"],
    },
  );
  assert.deepEqual(hoistGlobalFlags(["containers", "ls", "-n", "x"]), {
    global: [],
    rest: ["containers", "ls", "-n", "x"],
  });
  // unknown leading flags (--help) stay for oclif
  assert.deepEqual(hoistGlobalFlags(["--timeout", "5s", "--help"]), {
    global: ["--timeout", "5s"],
    rest: ["--help"],
  });
});

test("the command line after the id is the container's, flags and all", () => {
  const shapes = flagShapes({
    rootfs: { type: "option" },
    rm: { type: "boolean" },
    tty: { type: "boolean", char: "t" },
    namespace: { type: "option", char: "n" },
  });
  assert.deepEqual(
    splitCommandLine(
      ["--rm", "--rootfs", "/r", "-n", "x", "id1", "/bin/sh", "-c", "exit 7"],
      shapes,
      1,
    ),
    {
      own: ["--rm", "--rootfs", "/r", "-n", "x", "id1"],
      command: ["/bin/sh", "-c", "exit 7"],
    },
  );
  assert.deepEqual(splitCommandLine(["--rootfs=/r", "-t", "id1", "--rm"], shapes, 1), {
    own: ["--rootfs=/r", "-t", "id1"],
    command: ["--rm"],
  });
  assert.deepEqual(
    splitCommandLine(["--rootfs", "/r", "--", "id1", "/bin/echo", "--", "x"], shapes, 1),
    {
      own: ["--rootfs", "/r", "id1"],
      command: ["/bin/echo", "--", "x"],
    },
  );
  assert.deepEqual(splitCommandLine(["id1", "--", "/bin/echo"], shapes, 1), {
    own: ["id1"],
    command: ["/bin/echo"],
  });
  assert.deepEqual(splitCommandLine(["--rm"], shapes, 1), { own: ["--rm"], command: [] });
});

test("durations: Go syntax and bare seconds", () => {
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("2"), 2000);
  assert.equal(parseDuration("0"), undefined);
  assert.throws(() => parseDuration("10x"));
});

test("aliases: every topic spelling with every command spelling", () => {
  assert.deepEqual(aliasIds(["namespaces", "ns"], ["ls", "list"]), [
    "namespaces:list",
    "ns:ls",
    "ns:list",
  ]);
});

test("topic spellings map to the topic", () => {
  assert.deepEqual(canonicalTopic(["t", "--help"]), ["tasks", "--help"]);
  assert.deepEqual(canonicalTopic(["ns", "ls"]), ["namespaces", "ls"]);
  assert.deepEqual(canonicalTopic(["run", "c"]), ["run", "c"]);
  assert.deepEqual(canonicalTopic([]), []);
});
