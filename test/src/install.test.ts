// The README's promise: after `npm ci` and `npm run build`, node_modules/.bin holds the four
// binaries. npm ci skips a bin whose target does not exist yet (dist/ comes from the build), so a
// missing link only shows up on a clean clone; this test names it instead of letting the shim
// fall back to a bare `runc-ts` that nothing resolves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { accessSync, constants, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const binaries: Array<[name: string, pkg: string]> = [
  ["containerd-ts", "containerd"],
  ["ctr-ts", "ctr"],
  ["containerd-shim-ts-v2", "shim"],
  ["runc-ts", "runc"],
];

for (const [name, pkg] of binaries) {
  test(`node_modules/.bin/${name} is executable and is packages/${pkg}'s bin`, () => {
    const link = join(root, "node_modules", ".bin", name);
    const manifest = JSON.parse(readFileSync(join(root, "packages", pkg, "package.json"), "utf8"));
    const target = realpathSync(join(root, "packages", pkg, manifest.bin[name]));
    assert.equal(realpathSync(link), target, `${link} should lead to ${target}`);
    accessSync(link, constants.X_OK);
  });
}
