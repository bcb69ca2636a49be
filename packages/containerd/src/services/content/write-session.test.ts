import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind } from "@containerd-ts/errdefs";
import { sha256Digest } from "./digest.js";
import { contentFixture, kind } from "./test-support.js";
import {
  WriteAction,
  writeSession,
  type WriteRequest,
  type WriteResponse,
} from "./write-session.js";

const req = (r: Partial<WriteRequest>): WriteRequest => ({
  action: WriteAction.STAT,
  ref: "",
  total: 0,
  expected: "",
  offset: 0,
  data: new Uint8Array(),
  labels: {},
  ...r,
});

/**
 * Drives a session like a client: sends one request, reads one answer, then the next.
 * Returns the answers (including containerd's repeated last one).
 */
async function drive(
  fx: ReturnType<typeof contentFixture>,
  requests: WriteRequest[],
  ns = "ns",
): Promise<WriteResponse[]> {
  async function* feed() {
    yield* requests;
  }
  const out: WriteResponse[] = [];
  for await (const r of writeSession(fx.content, ns, undefined, feed())) out.push(r);
  return out;
}

const data = (s: string) => new Uint8Array(Buffer.from(s));

test("write: STAT, WRITE, COMMIT stores the blob and answers each step", async (t) => {
  const fx = contentFixture(t);
  const digest = sha256Digest("hello world");
  const out = await drive(fx, [
    req({ ref: "r", total: 11, expected: digest }),
    req({ action: WriteAction.WRITE, offset: 0, data: data("hello ") }),
    req({ action: WriteAction.WRITE, offset: 6, data: data("world") }),
    req({
      action: WriteAction.COMMIT,
      offset: 11,
      total: 11,
      expected: digest,
      labels: { a: "b" },
    }),
  ]);
  assert.deepEqual(
    out.map((r) => [r.action, r.offset]),
    [
      [WriteAction.STAT, 0],
      [WriteAction.WRITE, 6],
      [WriteAction.WRITE, 11],
      [WriteAction.COMMIT, 11],
      [WriteAction.COMMIT, 11], // containerd sends its last answer once more
    ],
  );
  assert.equal(out[0]!.total, 11);
  assert.equal(out[0]!.digest, sha256Digest(""));
  assert.ok(out[0]!.startedAt);
  assert.equal(out[3]!.digest, digest);
  assert.deepEqual(fx.content.info("ns", digest).labels, { a: "b" });
});

test("write: a session ended without commit leaves the ingest, the next one resumes it", async (t) => {
  const fx = contentFixture(t);
  await drive(fx, [
    req({ ref: "resume" }),
    req({ action: WriteAction.WRITE, data: data("first ") }),
  ]);
  assert.equal(fx.content.status("ns", "resume").offset, 6);
  const out = await drive(fx, [
    req({ ref: "resume" }),
    req({ action: WriteAction.WRITE, offset: 6, data: data("second") }),
    req({ action: WriteAction.COMMIT, offset: 12 }),
  ]);
  assert.equal(out[0]!.offset, 6);
  assert.equal(out[0]!.digest, sha256Digest("first "));
  assert.equal(out[2]!.digest, sha256Digest("first second"));
  assert.equal(fx.content.info("ns", sha256Digest("first second")).size, 12);
  assert.throws(() => fx.content.status("ns", "resume"), kind(ErrorKind.NotFound));
});

test("write: offset 0 on a started ingest starts over; another offset must be the current one", async (t) => {
  const fx = contentFixture(t);
  await drive(fx, [req({ ref: "o" }), req({ action: WriteAction.WRITE, data: data("junk") })]);
  const out = await drive(fx, [
    req({ ref: "o" }),
    req({ action: WriteAction.WRITE, offset: 0, data: data("ok") }),
    req({ action: WriteAction.COMMIT, offset: 2, total: 2 }),
  ]);
  assert.equal(out[1]!.offset, 2);
  assert.equal(out[2]!.digest, sha256Digest("ok"));
  await assert.rejects(
    drive(fx, [req({ ref: "p" }), req({ action: WriteAction.WRITE, offset: 3, data: data("x") })]),
    (e) => e instanceof Error && e.name === "OutOfRangeError",
  );
});

test("write: a wrong expected digest fails the commit with FailedPrecondition", async (t) => {
  const fx = contentFixture(t);
  await assert.rejects(
    drive(fx, [
      req({ ref: "bad" }),
      req({
        action: WriteAction.COMMIT,
        data: data("payload"),
        total: 7,
        expected: sha256Digest("something else"),
      }),
    ]),
    kind(ErrorKind.FailedPrecondition),
  );
  assert.deepEqual(fx.content.list("ns"), []);
  assert.equal(fx.content.status("ns", "bad").offset, 7);
  await assert.rejects(
    drive(fx, [
      req({ ref: "short" }),
      req({ action: WriteAction.COMMIT, data: data("abc"), total: 4 }),
    ]),
    kind(ErrorKind.FailedPrecondition),
  );
});

test("write: no ref is InvalidArgument; an expected blob that exists is AlreadyExists", async (t) => {
  const fx = contentFixture(t);
  await assert.rejects(drive(fx, [req({})]), kind(ErrorKind.InvalidArgument));
  await drive(fx, [req({ ref: "a" }), req({ action: WriteAction.COMMIT, data: data("x") })]);
  await assert.rejects(
    drive(fx, [req({ ref: "b", expected: sha256Digest("x") })]),
    kind(ErrorKind.AlreadyExists),
  );
  // announced only later in the session: the ingest is aborted too
  await assert.rejects(
    drive(fx, [
      req({ ref: "c" }),
      req({ action: WriteAction.WRITE, data: data("x") }),
      req({ action: WriteAction.STAT, expected: sha256Digest("x") }),
    ]),
    kind(ErrorKind.AlreadyExists),
  );
  assert.throws(() => fx.content.status("ns", "c"), kind(ErrorKind.NotFound));
});

test("write: namespaces do not see each other's ingests or blobs", async (t) => {
  const fx = contentFixture(t);
  await drive(
    fx,
    [req({ ref: "same" }), req({ action: WriteAction.WRITE, data: data("aaa") })],
    "one",
  );
  const out = await drive(fx, [req({ ref: "same" })], "two");
  assert.equal(out[0]!.offset, 0);
  assert.deepEqual(
    fx.content.listStatuses("one").map((s) => s.offset),
    [3],
  );
});
