import { test } from "node:test";
import assert from "node:assert/strict";
import { checkpointImageName, indexJson } from "./checkpoint-image.js";

test("checkpointImageName: containerd.io/checkpoint/ID:MM-DD-YYYY-HH:MM:SS in local time", () => {
  const at = new Date(2026, 0, 5, 7, 8, 9);
  assert.equal(
    checkpointImageName("web1", at),
    "containerd.io/checkpoint/web1:01-05-2026-07:08:09",
  );
});

test("indexJson: Go's field order, sorted maps, empty maps left out, trailing newline", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const text = indexJson(
    [
      {
        mediaType: "x/tar",
        digest,
        size: 3,
        annotations: { b: "2", a: "<&>" },
        platform: { architecture: "amd64", os: "linux" },
      },
      { mediaType: "x/manifest", digest, size: 4, annotations: {} },
    ],
    {},
  ).toString();
  assert.equal(
    text,
    `{"schemaVersion":2,"manifests":[` +
      `{"mediaType":"x/tar","digest":"${digest}","size":3,` +
      `"annotations":{"a":"\\u003c\\u0026\\u003e","b":"2"},` +
      `"platform":{"architecture":"amd64","os":"linux"}},` +
      `{"mediaType":"x/manifest","digest":"${digest}","size":4}]}\n`,
  );
  assert.match(
    indexJson([], { "image.name": "i" }).toString(),
    /"annotations":\{"image.name":"i"\}/,
  );
});
