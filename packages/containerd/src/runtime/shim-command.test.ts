import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { DeleteResponseSchema } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import {
  shimDeleteAction,
  shimStart,
  socketPathOf,
  type ShimCommandConfig,
} from "./shim-command.js";

function fakeShim(dir: string, body: string): string {
  const p = join(dir, "fake-shim");
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function config(dir: string, binary: string): ShimCommandConfig {
  return {
    binary,
    namespace: "ns1",
    id: "c1",
    bundlePath: dir,
    address: "/run/x.sock",
    ttrpcAddress: "/run/x.sock.ttrpc",
    publishBinary: "/usr/bin/containerd-ts",
  };
}

test("start: argv, cwd, env, options on stdin; trimmed output is the address", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-shimcmd-"));
  try {
    const bin = fakeShim(
      dir,
      'echo "$@" > args; pwd > cwd; env > env; cat > stdin; printf "  unix:///run/s/abc\\n"',
    );
    const opts = {
      $typeName: "google.protobuf.Any",
      typeUrl: "containerd.runc.v1.Options",
      value: new Uint8Array([8, 1]),
    } as const;
    const address = await shimStart(config(dir, bin), opts, 5000);
    assert.equal(address, "unix:///run/s/abc");
    assert.equal(
      readFileSync(join(dir, "args"), "utf8").trim(),
      "-namespace ns1 -address /run/x.sock -publish-binary /usr/bin/containerd-ts -id c1 start",
    );
    assert.equal(readFileSync(join(dir, "cwd"), "utf8").trim(), dir);
    const env = readFileSync(join(dir, "env"), "utf8");
    assert.match(env, /^TTRPC_ADDRESS=\/run\/x\.sock\.ttrpc$/m);
    assert.match(env, /^GRPC_ADDRESS=\/run\/x\.sock$/m);
    assert.match(env, /^NAMESPACE=ns1$/m);
    // a serialized Any: field 1 type_url, field 2 value
    const stdin = readFileSync(join(dir, "stdin"));
    assert.equal(stdin[0], 0x0a);
    assert.ok(stdin.includes(Buffer.from("containerd.runc.v1.Options")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("start failure carries the shim's output", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-shimcmd-"));
  try {
    const bin = fakeShim(dir, 'echo "boom: bad options" >&2; exit 3');
    await assert.rejects(
      shimStart(config(dir, bin), undefined, 5000),
      /boom: bad options: exit status 3/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a wedged shim start hits its deadline", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-shimcmd-"));
  try {
    const bin = fakeShim(dir, "exec sleep 30");
    await assert.rejects(shimStart(config(dir, bin), undefined, 300), /timed out/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("delete action: argv and the DeleteResponse it prints", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-shimcmd-"));
  try {
    const resp = toBinary(
      DeleteResponseSchema,
      create(DeleteResponseSchema, { pid: 42, exitStatus: 137 }),
    );
    writeFileSync(join(dir, "resp.bin"), resp);
    const bin = fakeShim(dir, `echo "$@" > args; cat "${join(dir, "resp.bin")}"`);
    const r = await shimDeleteAction(config(dir, bin), 5000);
    assert.equal(r.pid, 42);
    assert.equal(r.exitStatus, 137);
    assert.equal(
      readFileSync(join(dir, "args"), "utf8").trim(),
      `-namespace ns1 -address /run/x.sock -publish-binary /usr/bin/containerd-ts -id c1 -bundle ${dir} delete`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("socket addresses", () => {
  assert.equal(socketPathOf("unix:///run/a/s"), "/run/a/s");
  assert.equal(socketPathOf("/run/a/s"), "/run/a/s");
  assert.equal(socketPathOf("unix://@abc"), "\0abc");
});
