import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headerOf, readTar, tarEnd, tarHeader, tarPadding, type TarHeader } from "./tar.js";

const LONG = `${"d".repeat(80)}/${"f".repeat(90)}`;

const header = (h: Partial<TarHeader>): TarHeader =>
  headerOf({ name: "x", mtime: 1_700_000_000, ...h });

function archive(entries: Array<{ h: TarHeader; data?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const { h, data = "" } of entries) {
    parts.push(tarHeader({ ...h, size: Buffer.byteLength(data) }), Buffer.from(data));
    parts.push(tarPadding(Buffer.byteLength(data)));
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

/** Reads every entry (with its data) from chunks of `size` bytes. */
async function readAll(buf: Buffer, size = 7) {
  const chunks = async function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  };
  const out: Array<{ h: TarHeader; data: string }> = [];
  for await (const e of readTar(chunks())) {
    const parts: Buffer[] = [];
    for await (const b of e.body()) parts.push(b);
    out.push({ h: e.header, data: Buffer.concat(parts).toString() });
  }
  return out;
}

test("round trip: long names and links, big ids, xattrs, devices, modes", async () => {
  const entries = [
    { h: header({ name: "dir", type: "dir", mode: 0o1755 }) },
    { h: header({ name: LONG, mode: 0o4755, uid: 5_000_000, gid: 7 }), data: "payload" },
    { h: header({ name: "sl", type: "symlink", linkname: LONG, mode: 0o777 }) },
    { h: header({ name: "hl", type: "link", linkname: LONG }) },
    { h: header({ name: "null", type: "char", devmajor: 1, devminor: 3 }) },
    { h: header({ name: "x", xattrs: { "user.k": Buffer.from("v") } }), data: "" },
  ];
  const got = await readAll(archive(entries));
  assert.equal(got.length, entries.length);
  assert.equal(got[0]!.h.name, "dir/");
  assert.equal(got[0]!.h.mode, 0o1755);
  assert.equal(got[1]!.h.name, LONG);
  assert.equal(got[1]!.data, "payload");
  assert.equal(got[1]!.h.uid, 5_000_000);
  assert.equal(got[1]!.h.mode, 0o4755);
  assert.equal(got[1]!.h.mtime, 1_700_000_000);
  assert.equal(got[2]!.h.linkname, LONG);
  assert.equal(got[3]!.h.type, "link");
  assert.deepEqual([got[4]!.h.type, got[4]!.h.devmajor, got[4]!.h.devminor], ["char", 1, 3]);
  assert.equal(got[5]!.h.xattrs["user.k"]!.toString(), "v");
});

test("the system tar reads ours, and we read its gnu and pax archives", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ctd-tar-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ours = join(dir, "ours.tar");
  writeFileSync(ours, archive([{ h: header({ name: LONG }), data: "abc" }]));
  const listed = spawnSync("tar", ["-tf", ours]);
  assert.equal(listed.status, 0, listed.stderr.toString());
  assert.equal(listed.stdout.toString().trim(), LONG);

  const src = join(dir, "src");
  mkdirSync(join(src, "d".repeat(80)), { recursive: true });
  writeFileSync(join(src, LONG), "long file");
  symlinkSync(LONG, join(src, "link"));
  for (const format of ["gnu", "pax"]) {
    const out = join(dir, `${format}.tar`);
    const r = spawnSync("tar", ["-C", src, `--format=${format}`, "-cf", out, "."]);
    assert.equal(r.status, 0, r.stderr.toString());
    const got = await readAll(readFileSync(out), 4096);
    const file = got.find((e) => e.h.name === `./${LONG}`);
    assert.equal(file?.data, "long file", format);
    assert.equal(got.find((e) => e.h.name === "./link")?.h.linkname, LONG, format);
  }
});

test("a truncated archive is an error; a corrupt header too", async () => {
  const full = archive([{ h: header({ name: "f" }), data: "x".repeat(1000) }]);
  await assert.rejects(readAll(full.subarray(0, 700)));
  const bad = Buffer.from(full);
  bad[0] = 0x41;
  await assert.rejects(readAll(bad));
});
