import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_SLAVE,
  MS_STRICTATIME,
} from "@containerd-ts/sys/constants.js";
import { parseMountOptions } from "./mount-options.js";

test("flags, clearing options, propagation and fs data are separated", () => {
  assert.deepEqual(parseMountOptions(["nosuid", "noexec", "nodev", "ro"]), {
    flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY,
    propagation: [],
    data: null,
  });
  assert.deepEqual(parseMountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"]), {
    flags: MS_NOSUID | MS_STRICTATIME,
    propagation: [],
    data: "mode=755,size=65536k",
  });
  assert.deepEqual(parseMountOptions(["rbind", "rprivate", "ro", "rw"]), {
    flags: MS_BIND | MS_REC,
    propagation: [MS_PRIVATE | MS_REC],
    data: null,
  });
  assert.deepEqual(parseMountOptions(["bind", "slave", "relatime", "tmpcopyup"]), {
    flags: MS_BIND | MS_RELATIME,
    propagation: [MS_SLAVE],
    data: null,
  });
  assert.deepEqual(parseMountOptions([]), { flags: 0, propagation: [], data: null });
});
