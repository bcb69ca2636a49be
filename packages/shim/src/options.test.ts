import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { OptionsSchema } from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeOptions, readBundleOptions, writeBundleOptions } from "./options.js";
import { resolveRuntimeBinary, runtimeConfig } from "./runtime.js";
import { shimCgroupFromOptionsAny } from "./wire.js";

const opts = create(OptionsSchema, {
  binaryName: "/usr/bin/runc",
  root: "/run/r",
  systemdCgroup: true,
  ioUid: 5,
});
const any = { typeUrl: "containerd.runc.v1.Options", value: toBinary(OptionsSchema, opts) };

test("decodes containerd.runc.v1.Options from an Any", () => {
  assert.equal(decodeOptions(create(AnySchema, any)).binaryName, "/usr/bin/runc");
  const o = decodeOptions(create(AnySchema, any));
  assert.equal(o.root, "/run/r");
  assert.equal(o.systemdCgroup, true);
  assert.equal(decodeOptions(undefined).root, "");
  // the Go registry's prefixed form is the same type
  assert.equal(
    decodeOptions(
      create(AnySchema, { ...any, typeUrl: "type.googleapis.com/containerd.runc.v1.Options" }),
    ).ioUid,
    5,
  );
});

test("an unknown options type is InvalidArgument", () => {
  try {
    decodeOptions(create(AnySchema, { typeUrl: "example.Other", value: new Uint8Array([1]) }));
    assert.fail("no error");
  } catch (e) {
    assert.equal(kindOf(e), ErrorKind.InvalidArgument);
  }
});

test("options.json uses the Go json names and round-trips; runtime file holds BinaryName", () => {
  const dir = mkdtempSync(join(tmpdir(), "shim-opts-"));
  try {
    writeBundleOptions(dir, opts);
    const json = JSON.parse(readFileSync(join(dir, "options.json"), "utf8"));
    assert.deepEqual(json, {
      io_uid: 5,
      binary_name: "/usr/bin/runc",
      root: "/run/r",
      systemd_cgroup: true,
    });
    assert.equal(readFileSync(join(dir, "runtime"), "utf8"), "/usr/bin/runc");
    const back = readBundleOptions(dir);
    assert.equal(back.binaryName, "/usr/bin/runc");
    assert.equal(back.ioUid, 5);
    assert.equal(readBundleOptions(join(dir, "missing")).binaryName, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("runtime: BinaryName, else $CONTAINERD_TS_RUNC, else the default; root gets the namespace", () => {
  assert.equal(resolveRuntimeBinary({ binaryName: "/opt/crun" }, {}), "/opt/crun");
  assert.equal(
    resolveRuntimeBinary({ binaryName: "" }, { CONTAINERD_TS_RUNC: "/usr/sbin/runc", PATH: "" }),
    "/usr/sbin/runc",
  );
  // the default is runc-ts, found beside this package when it is not on PATH
  assert.match(
    resolveRuntimeBinary({ binaryName: "" }, { PATH: "" }),
    /node_modules\/\.bin\/runc-ts$/,
  );
  const c = runtimeConfig("/b", "ns1", create(OptionsSchema, { binaryName: "/x/runc" }));
  assert.equal(c.root, "/run/containerd/runc/ns1");
  assert.equal(c.log, "/b/log.json");
  assert.equal(c.binary, "/x/runc");
});

test("start reads ShimCgroup from the Any bytes without a protobuf runtime", () => {
  const withCgroup = create(OptionsSchema, {
    shimCgroup: "/shims/x",
    binaryName: "runc",
    ioUid: 300,
    systemdCgroup: true,
  });
  const bytes = toBinary(
    AnySchema,
    create(AnySchema, {
      typeUrl: "containerd.runc.v1.Options",
      value: toBinary(OptionsSchema, withCgroup),
    }),
  );
  assert.equal(shimCgroupFromOptionsAny(bytes), "/shims/x");
  assert.equal(shimCgroupFromOptionsAny(toBinary(AnySchema, create(AnySchema, any))), "");
  assert.equal(shimCgroupFromOptionsAny(new Uint8Array()), "");
  assert.throws(() =>
    shimCgroupFromOptionsAny(
      toBinary(AnySchema, create(AnySchema, { typeUrl: "x.Other", value: new Uint8Array([8, 1]) })),
    ),
  );
  assert.throws(() => shimCgroupFromOptionsAny(new Uint8Array([0x0a, 0x05, 0x61])));
});
