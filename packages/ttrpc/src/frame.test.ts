import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FrameDecoder,
  MAX_PAYLOAD_LENGTH,
  decodeHeader,
  encodeFrame,
  encodeHeader,
} from "./frame.js";
import { goShimExchange } from "./fixtures/go-frames.js";

test("header is 10 bytes: length, stream id (BE), type, flags", () => {
  const h = encodeHeader({ length: 0x01020304, streamId: 0xa0b0c0d, type: 2, flags: 7 });
  assert.equal(h.toString("hex"), "010203040a0b0c0d0207");
  assert.deepEqual(decodeHeader(h), { length: 0x01020304, streamId: 0xa0b0c0d, type: 2, flags: 7 });
});

test("a frame recorded from the Go shim decodes", () => {
  const [ev, ...rest] = new FrameDecoder().push(Buffer.from(goShimExchange.connectResponse, "hex"));
  assert.equal(rest.length, 0);
  assert.equal(ev?.kind, "frame");
  assert.deepEqual(ev.header, { length: 5, streamId: 1, type: 2, flags: 0 });
});

test("frames split at every byte boundary and coalesced chunks decode the same", () => {
  const frames = [
    encodeFrame(1, 1, Buffer.from("hello")),
    encodeFrame(3, 1, Buffer.alloc(0)),
    encodeFrame(5, 2, Buffer.from("x")),
  ];
  const all = Buffer.concat(frames);
  const dec = new FrameDecoder();
  const bytewise = [];
  for (const b of all) bytewise.push(...dec.push(Buffer.from([b])));
  const whole = new FrameDecoder().push(all);
  for (const evs of [bytewise, whole]) {
    assert.deepEqual(
      evs.map((e) =>
        e.kind === "frame" ? [e.header.streamId, e.payload.toString()] : ["oversize"],
      ),
      [
        [1, "hello"],
        [3, ""],
        [5, "x"],
      ],
    );
  }
  assert.equal(dec.pendingBytes, 0);
});

test("an oversize frame is reported at once and its payload skipped, not buffered", () => {
  const dec = new FrameDecoder();
  const header = encodeHeader({ length: MAX_PAYLOAD_LENGTH + 1, streamId: 7, type: 1, flags: 0 });
  const evs = dec.push(header);
  assert.deepEqual(evs, [
    {
      kind: "oversize",
      header: { length: MAX_PAYLOAD_LENGTH + 1, streamId: 7, type: 1, flags: 0 },
    },
  ]);
  assert.equal(dec.pendingBytes, MAX_PAYLOAD_LENGTH + 1);
  assert.deepEqual(dec.push(Buffer.alloc(MAX_PAYLOAD_LENGTH)), []);
  const next = dec.push(Buffer.concat([Buffer.alloc(1), encodeFrame(9, 1, Buffer.from("ok"))]));
  assert.equal(next.length, 1);
  assert.equal(next[0]?.header.streamId, 9);
  assert.equal(dec.pendingBytes, 0);
});

test("exactly 4 MiB is allowed", () => {
  const evs = new FrameDecoder().push(encodeFrame(1, 1, Buffer.alloc(MAX_PAYLOAD_LENGTH)));
  assert.equal(evs[0]?.kind, "frame");
});

test("a truncated frame leaves pending bytes", () => {
  const dec = new FrameDecoder();
  dec.push(encodeFrame(1, 1, Buffer.from("hello")).subarray(0, 12));
  assert.equal(dec.pendingBytes, 12);
  const dec2 = new FrameDecoder();
  dec2.push(Buffer.from([0, 0, 0]));
  assert.equal(dec2.pendingBytes, 3);
});
