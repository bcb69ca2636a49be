import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventSpool } from "./spool.js";

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "shim-spool-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b = (s: string) => new Uint8Array(Buffer.from(s));
const str = (u: Uint8Array | undefined) => (u ? Buffer.from(u).toString() : undefined);

test("FIFO order, ack drops the head, empty spool truncates its file", () =>
  withDir((dir) => {
    const s = new EventSpool(join(dir, "spool"));
    s.append(b("a"));
    s.append(b("b"));
    assert.equal(s.size, 2);
    assert.equal(str(s.head()), "a");
    s.ack();
    assert.equal(str(s.head()), "b");
    s.ack();
    assert.equal(s.head(), undefined);
    assert.equal(s.size, 0);
    assert.equal(statSync(join(dir, "spool")).size, 8);
    s.close();
  }));

test("more events than the memory window stay on disk and come back in order", () =>
  withDir((dir) => {
    const s = new EventSpool(join(dir, "spool"), 3);
    for (let i = 0; i < 10; i++) s.append(b(`e${i}`));
    const seen: string[] = [];
    s.append(b("late"));
    while (s.head()) {
      seen.push(str(s.head())!);
      s.ack();
    }
    assert.deepEqual(seen, [...Array.from({ length: 10 }, (_, i) => `e${i}`), "late"]);
    s.close();
  }));

test("a reopened spool resumes after the last ack and drops a torn tail", () =>
  withDir((dir) => {
    const path = join(dir, "spool");
    const s = new EventSpool(path);
    s.append(b("one"));
    s.append(b("two"));
    s.append(b("three"));
    s.ack();
    s.close();
    const r = new EventSpool(path);
    assert.equal(r.size, 2);
    assert.equal(str(r.head()), "two");
    r.ack();
    r.append(b("four"));
    assert.equal(str(r.head()), "three");
    r.ack();
    assert.equal(str(r.head()), "four");
    r.close();
  }));
