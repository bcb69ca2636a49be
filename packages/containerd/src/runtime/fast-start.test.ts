import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isOwnShim } from "./fast-start.js";

const SHIM = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shim", "dist");
const SHIM_MAIN = join(SHIM, "main.js");
const SHIM_BUNDLE = join(SHIM, "bundle", "containerd-shim-ts-v2.cjs");

test("isOwnShim: the shim's entries and links to them; nothing else", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fast-start-own-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(isOwnShim(SHIM_MAIN), true);
  symlinkSync(SHIM_MAIN, join(dir, "containerd-shim-ts-v2"));
  assert.equal(isOwnShim(join(dir, "containerd-shim-ts-v2")), true);
  assert.equal(isOwnShim("/bin/true"), false);
  assert.equal(isOwnShim(join(dir, "missing")), false);
});

test(
  "isOwnShim: the bundle the shim's bin points to",
  { skip: !existsSync(SHIM_BUNDLE) && "shim not bundled (npm run build bundles it)" },
  () => {
    assert.equal(isOwnShim(SHIM_BUNDLE), true);
  },
);
