import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_UNIX_ENV,
  imageContainerLabels,
  parseNumericUser,
  processFromImageConfig,
} from "./image-config.js";
import { chainIdOf } from "../ops/image-config.js";

test("the image's Entrypoint+Cmd run when no command is given", () => {
  const p = processFromImageConfig({ Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo hi"] }, []);
  assert.deepEqual(p.args, ["/bin/sh", "-c", "echo hi"]);
  assert.equal(p.cwd, "/");
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [0] });
});

test("a given command replaces Entrypoint and Cmd, as ctr's WithProcessArgs does", () => {
  const p = processFromImageConfig({ Entrypoint: ["/ep"], Cmd: ["x"] }, ["/bin/echo", "hi"]);
  assert.deepEqual(p.args, ["/bin/echo", "hi"]);
});

test("no command and no Cmd/Entrypoint is an error", () => {
  assert.throws(() => processFromImageConfig({ Cmd: null }, []));
});

test("env: the image's (else the default PATH), flags replace a key in place or append", () => {
  assert.deepEqual(processFromImageConfig({ Cmd: ["/a"] }, []).env, DEFAULT_UNIX_ENV);
  const p = processFromImageConfig({ Cmd: ["/a"], Env: ["PATH=/bin", "A=1"] }, [], ["A=2", "B=3"]);
  assert.deepEqual(p.env, ["PATH=/bin", "A=2", "B=3"]);
});

test("WorkingDir and a numeric User", () => {
  const p = processFromImageConfig({ Cmd: ["/a"], WorkingDir: "/srv", User: "1000:100" }, []);
  assert.equal(p.cwd, "/srv");
  assert.deepEqual(p.user, { uid: 1000, gid: 100, additionalGids: [100] });
  assert.deepEqual(parseNumericUser("42"), { uid: 42, gid: 0 });
  assert.deepEqual(parseNumericUser("root"), { uid: 0, gid: 0 });
  assert.throws(() => parseNumericUser("nobody"));
});

test("labels: config's, then the image's, then the flags', and the stop signal", () => {
  assert.deepEqual(imageContainerLabels({ Labels: { a: "1", b: "1" } }, { b: "2" }, { c: "3" }), {
    a: "1",
    b: "2",
    c: "3",
    "io.containerd.image.config.stop-signal": "SIGTERM",
  });
  assert.equal(
    imageContainerLabels({ StopSignal: "SIGQUIT" }, {}, {})[
      "io.containerd.image.config.stop-signal"
    ],
    "SIGQUIT",
  );
});

test("chain ID: one layer is its diff ID; more chain with sha256('<chain> <diff>')", () => {
  const a = `sha256:${"a".repeat(64)}`;
  const b = `sha256:${"b".repeat(64)}`;
  assert.equal(chainIdOf([a]), a);
  // identity.ChainID of [a, b], as containerd computes it
  assert.match(chainIdOf([a, b]), /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(chainIdOf([a, b]), chainIdOf([b, a]));
  assert.throws(() => chainIdOf([]));
});
