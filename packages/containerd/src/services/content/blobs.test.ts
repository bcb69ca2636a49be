import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind } from "@containerd-ts/errdefs";
import { BlobStore } from "./blobs.js";
import { sha256Digest } from "./digest.js";
import { kind } from "./test-support.js";

function blobStore(t: { after(fn: () => void): void }): BlobStore {
  const dir = mkdtempSync(join(tmpdir(), "ctd-blobs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return new BlobStore(join(dir, "content"));
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

test("blobs: a committed write lands read-only at blobs/sha256/<hex>, the ingest is gone", async (t) => {
  const s = blobStore(t);
  const w = await s.writer("r1", 11);
  await w.write(Buffer.from("hello "));
  await w.write(Buffer.from("world"));
  assert.equal(w.digest(), sha256Digest("hello world"));
  assert.equal(w.status().offset, 11);
  const digest = await w.commit(11, sha256Digest("hello world"));
  const path = join(s.root, "blobs", "sha256", digest.slice("sha256:".length));
  assert.equal(readFileSync(path, "utf8"), "hello world");
  assert.equal(statSync(path).mode & 0o777, 0o444);
  assert.equal(existsSync(s.ingestDir("r1")), false);
  assert.equal(s.size(digest), 11);
  assert.equal(await collect(s.read(digest, 6, 5)), "world");
  assert.throws(() => s.status("r1"), kind(ErrorKind.NotFound));
});

test("blobs: a closed ingest resumes at its offset with its digest; total mismatch restarts", async (t) => {
  const s = blobStore(t);
  const w = await s.writer("r", 0);
  await w.write(Buffer.from("abc"));
  await w.close();
  const st = s.status("r");
  assert.deepEqual([st.ref, st.offset, st.total], ["r", 3, 0]);
  const again = await s.writer("r", 0);
  assert.equal(again.status().offset, 3);
  assert.equal(again.status().startedAt.getTime(), st.startedAt.getTime());
  await again.write(Buffer.from("def"));
  assert.equal(await again.commit(6, ""), sha256Digest("abcdef"));

  const x = await s.writer("x", 10);
  await x.write(Buffer.from("12"));
  await x.close();
  const fresh = await s.writer("x", 20);
  assert.equal(fresh.status().offset, 0);
  assert.equal(fresh.status().total, 20);
  await fresh.close();
});

test("blobs: one writer per ref; the second is Unavailable until the first closes", async (t) => {
  const s = blobStore(t);
  const w = await s.writer("busy", 0);
  await assert.rejects(s.writer("busy", 0), kind(ErrorKind.Unavailable));
  await w.close();
  await (await s.writer("busy", 0)).close();
});

test("blobs: wrong digest or size is FailedPrecondition and keeps the data; existing blob AlreadyExists", async (t) => {
  const s = blobStore(t);
  const w = await s.writer("bad", 0);
  await w.write(Buffer.from("data"));
  await assert.rejects(w.commit(0, sha256Digest("other")), kind(ErrorKind.FailedPrecondition));
  assert.equal(s.status("bad").offset, 4);
  const sized = await s.writer("bad", 0);
  await assert.rejects(sized.commit(5, ""), kind(ErrorKind.FailedPrecondition));
  const ok = await s.writer("bad", 0);
  await ok.commit(4, sha256Digest("data"));
  const dup = await s.writer("dup", 0);
  await dup.write(Buffer.from("data"));
  await assert.rejects(dup.commit(4, ""), kind(ErrorKind.AlreadyExists));
  assert.equal(existsSync(s.ingestDir("dup")), false);
});

test("blobs: truncate starts over; abort removes the ingest; a sweep removes bytes", async (t) => {
  const s = blobStore(t);
  const w = await s.writer("t", 0);
  await w.write(Buffer.from("garbage"));
  await w.truncate();
  await w.write(Buffer.from("ok"));
  const d = await w.commit(2, "");
  assert.equal(d, sha256Digest("ok"));
  assert.equal(await collect(s.read(d, 0, 2)), "ok");
  const a = await s.writer("a", 0);
  await a.close();
  const open = await s.writer("open", 0);
  assert.equal(
    s.sweepIngests((ref) => ref === "a"),
    0,
  );
  await open.close();
  assert.equal(
    s.sweepIngests((ref) => ref === "a"),
    1,
  );
  assert.equal(existsSync(s.ingestDir("open")), false);
  s.abort("a");
  assert.throws(() => s.abort("a"), kind(ErrorKind.NotFound));
  assert.equal(
    s.sweepBlobs((digest) => digest !== d),
    1,
  );
  assert.equal(
    s.sweepBlobs(() => false),
    0,
  );
  assert.equal(s.size(d), undefined);
});
