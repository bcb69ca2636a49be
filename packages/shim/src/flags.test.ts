import { test } from "node:test";
import assert from "node:assert/strict";
import { FlagError, parseFlags } from "./flags.js";

test("parses the start command line containerd sends", () => {
  const f = parseFlags([
    "-namespace",
    "default",
    "-address",
    "/run/c.sock",
    "-publish-binary",
    "/usr/bin/containerd",
    "-id",
    "c1",
    "-debug",
    "start",
  ]);
  assert.equal(f.namespace, "default");
  assert.equal(f.address, "/run/c.sock");
  assert.equal(f.publishBinary, "/usr/bin/containerd");
  assert.equal(f.id, "c1");
  assert.equal(f.debug, true);
  assert.equal(f.action, "start");
});

test("-name=value, --name, bool values, -bundle and delete; no action means serve", () => {
  const f = parseFlags(["--namespace=k8s.io", "-id=x", "-debug=false", "-bundle", "/b", "delete"]);
  assert.deepEqual(
    [f.namespace, f.id, f.debug, f.bundle, f.action],
    ["k8s.io", "x", false, "/b", "delete"],
  );
  assert.equal(parseFlags(["-namespace", "n", "-id", "i"]).action, "");
  assert.equal(parseFlags(["-namespace", "n", "--", "-notaflag"]).action, "-notaflag");
});

test("unknown flags and missing values fail like Go's flag package", () => {
  assert.throws(() => parseFlags(["-nope"]), FlagError);
  assert.throws(() => parseFlags(["-namespace"]), FlagError);
  assert.throws(() => parseFlags(["-debug=maybe"]), FlagError);
});
