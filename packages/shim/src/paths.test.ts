import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { socketAddress, socketPath, writeFileAtomic } from "./paths.js";

test("socket address is sha256 of the cleaned address/ns/id under the socket dir", () => {
  const want = createHash("sha256")
    .update("/run/containerd/containerd.sock/default/c1")
    .digest("hex");
  assert.equal(
    socketAddress("/run/containerd/containerd.sock", "default", "c1", "/run/containerd/s"),
    `unix:///run/containerd/s/${want}`,
  );
  // filepath.Join cleans: a trailing slash or ./ changes nothing
  assert.equal(
    socketAddress("/run/containerd/./containerd.sock/", "default", "c1", "/x"),
    `unix:///x/${want}`,
  );
  assert.equal(socketPath(`unix:///x/${want}`), `/x/${want}`);
});

test("writeFileAtomic leaves only the target", () => {
  const dir = mkdtempSync(join(tmpdir(), "shim-paths-"));
  try {
    writeFileAtomic(join(dir, "address"), "unix:///a");
    writeFileAtomic(join(dir, "address"), "unix:///b");
    assert.equal(readFileSync(join(dir, "address"), "utf8"), "unix:///b");
    assert.deepEqual(readdirSync(dir), ["address"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
