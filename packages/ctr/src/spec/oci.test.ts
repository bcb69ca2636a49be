import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildSpec, mergeEnv, parseMountFlag } from "./oci.js";

// what the real ctr 1.6.20 stored for:
//   ctr c create --label x=y --env FOO=bar --rootfs /tmp/ctrts-real/rootfs c1 /bin/echo hi
const ctrSpec: unknown = JSON.parse(
  readFileSync(
    new URL("../../src/spec/testdata/ctr-1.6-rootfs-spec.json", import.meta.url),
    "utf8",
  ),
);

test("the default spec is the one ctr 1.6 builds for --rootfs, key order included", () => {
  const spec = buildSpec({
    id: "c1",
    namespace: "default",
    rootfs: "/tmp/ctrts-real/rootfs",
    args: ["/bin/echo", "hi"],
    env: ["FOO=bar"],
    labels: { x: "y" },
  });
  assert.deepEqual(spec, ctrSpec);
  assert.equal(JSON.stringify(spec), JSON.stringify(ctrSpec));
});

test("no env, no labels: no process.env, no annotations (ctr's --rootfs spec)", () => {
  const spec = buildSpec({ id: "a", namespace: "ns1", rootfs: "/r", args: ["/bin/true"] });
  assert.equal("env" in spec.process, false);
  assert.equal("annotations" in spec, false);
  assert.equal(spec.linux.cgroupsPath, "/ns1/a");
  assert.equal(spec.process.cwd, "/");
});

test("tty, cwd, extra mounts, read-only root", () => {
  const spec = buildSpec({
    id: "a",
    namespace: "default",
    rootfs: "/r",
    args: ["/bin/sh"],
    terminal: true,
    cwd: "/tmp",
    mounts: [parseMountFlag("type=bind,src=/host,dst=/data,options=rbind:ro")],
    readonlyRootfs: true,
  });
  assert.equal(Object.keys(spec.process)[0], "terminal");
  assert.deepEqual(spec.process.env, ["TERM=xterm"]);
  assert.equal(spec.process.cwd, "/tmp");
  assert.deepEqual(spec.mounts.at(-1), {
    destination: "/data",
    type: "bind",
    source: "/host",
    options: ["rbind", "ro"],
  });
  assert.deepEqual(spec.root, { path: "/r", readonly: true });
});

test("mount flag syntax like ctr, including quoted values and errors", () => {
  assert.deepEqual(parseMountFlag('type=bind,"source=/a,b",destination=/x'), {
    destination: "/x",
    type: "bind",
    source: "/a,b",
  });
  assert.throws(() => parseMountFlag("type=bind,bogus=1"), /not supported/);
  assert.throws(() => parseMountFlag("bind"), /key=val/);
});

test("env: later values replace earlier keys in place", () => {
  assert.deepEqual(mergeEnv(["A=1", "B=2"], ["B=3", "C=4"]), ["A=1", "B=3", "C=4"]);
});
