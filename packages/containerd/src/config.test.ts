import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { DEFAULT_CONFIG, parseConfigToml, resolveConfig } from "./config.js";

test("defaults apply without flags or file", () => {
  const c = resolveConfig({});
  assert.equal(c.address, DEFAULT_CONFIG.address);
  assert.equal(c.ttrpcAddress, DEFAULT_CONFIG.address + ".ttrpc");
  assert.equal(c.root, "/var/lib/containerd-ts");
  assert.equal(c.maxRecvMessageSize, 16 << 20);
});

test("the file is read, flags win over it", () => {
  const toml = `
version = 2
root = "/r"
state = "/s"
[grpc]
address = "unix:///tmp/x.sock"
max_recv_message_size = 1024
[debug]
level = "debug"
[events]
retention = 10
[metadata]
synchronous = "normal"
[plugins."io.containerd.runtime.v2.task"]
shim = "containerd-shim-ts-v2"
`;
  const c = resolveConfig({ config: "/c.toml", state: "/flag-state" }, () => toml);
  assert.equal(c.root, "/r");
  assert.equal(c.state, "/flag-state");
  assert.equal(c.address, "/tmp/x.sock");
  assert.equal(c.ttrpcAddress, "/tmp/x.sock.ttrpc");
  assert.equal(c.maxRecvMessageSize, 1024);
  assert.equal(c.logLevel, "debug");
  assert.equal(c.events.retention, 10);
  assert.equal(c.metadata.synchronous, "normal");
  assert.equal(c.plugins["io.containerd.runtime.v2.task"]?.["shim"], "containerd-shim-ts-v2");
  assert.equal(c.configPath, "/c.toml");
});

test("bad config is InvalidArgument", () => {
  for (const bad of [
    "root = 1",
    "[grpc]\naddress = ''",
    "[events]\nretention = -1",
    '[metadata]\nsynchronous = "off"',
    "not toml [",
  ]) {
    assert.throws(
      () => parseConfigToml(bad),
      (e) => kindOf(e) === ErrorKind.InvalidArgument,
      bad,
    );
  }
  assert.throws(
    () => resolveConfig({ logLevel: "loud" }),
    (e) => kindOf(e) === ErrorKind.InvalidArgument,
  );
});
