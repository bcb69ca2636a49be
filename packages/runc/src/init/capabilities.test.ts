import { test } from "node:test";
import assert from "node:assert/strict";
import { ambientCaps, boundingDrops, capMask, capSets } from "./capabilities.js";

test("capability names become bit masks", () => {
  assert.equal(capMask([]), 0n);
  assert.equal(capMask(["CAP_CHOWN"]), 1n);
  assert.equal(capMask(["CAP_KILL", "CAP_NET_BIND_SERVICE"]), (1n << 5n) | (1n << 10n));
  assert.equal(capMask(["CAP_CHECKPOINT_RESTORE"]), 1n << 40n);
  assert.throws(() => capMask(["CAP_NOPE"]));
});

test("the bounding set drops every capability not kept", () => {
  assert.deepEqual(boundingDrops(["CAP_CHOWN", "CAP_KILL"], 6), [1, 2, 3, 4, 6]);
  assert.equal(boundingDrops([], 40).length, 41);
});

test("all five sets are taken from the config", () => {
  const c = {
    bounding: ["CAP_KILL"],
    effective: ["CAP_KILL"],
    permitted: ["CAP_KILL", "CAP_CHOWN"],
    inheritable: ["CAP_CHOWN"],
    ambient: ["CAP_CHOWN"],
  };
  assert.deepEqual(capSets(c), {
    effective: 1n << 5n,
    permitted: (1n << 5n) | 1n,
    inheritable: 1n,
  });
  assert.deepEqual(ambientCaps(c), [0]);
});
