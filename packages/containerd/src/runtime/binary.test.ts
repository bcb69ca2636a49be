import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { resolveShimBinary, shimBinaryName } from "./binary.js";

function exe(path: string): void {
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
}

test("runtime name → shim binary name", () => {
  assert.equal(shimBinaryName("io.containerd.runc.v2"), "containerd-shim-runc-v2");
  assert.equal(shimBinaryName("io.containerd.ts.v2"), "containerd-shim-ts-v2");
  assert.equal(shimBinaryName("foo.v1"), "containerd-shim-foo-v1");
  assert.equal(shimBinaryName("runc"), undefined);
});

test("PATH first, then the fallback dirs; absolute paths as is", () => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-ts-bin-"));
  try {
    const a = join(dir, "a");
    const b = join(dir, "b");
    mkdirSync(a);
    mkdirSync(b);
    exe(join(b, "containerd-shim-x-v9"));
    assert.equal(
      resolveShimBinary("io.containerd.x.v9", { path: a, fallbackDirs: [b] }),
      join(b, "containerd-shim-x-v9"),
    );
    exe(join(a, "containerd-shim-x-v9"));
    assert.equal(
      resolveShimBinary("io.containerd.x.v9", { path: a, fallbackDirs: [b] }),
      join(a, "containerd-shim-x-v9"),
    );
    assert.equal(
      resolveShimBinary(join(b, "containerd-shim-x-v9")),
      join(b, "containerd-shim-x-v9"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("unknown or malformed runtimes fail with kinds", () => {
  assert.equal(
    kindOf(
      capture(() =>
        resolveShimBinary("io.containerd.nope.v7", { path: "/nonexistent", fallbackDirs: [] }),
      ),
    ),
    ErrorKind.NotFound,
  );
  assert.equal(
    kindOf(capture(() => resolveShimBinary("runc", { path: "", fallbackDirs: [] }))),
    ErrorKind.InvalidArgument,
  );
  assert.equal(kindOf(capture(() => resolveShimBinary("", {}))), ErrorKind.InvalidArgument);
  assert.equal(
    kindOf(capture(() => resolveShimBinary("/nonexistent/shim", {}))),
    ErrorKind.NotFound,
  );
});

function capture(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
