import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { mapField, nonEmpty, parseFilter, parseFilters, type Adaptor } from "./index.js";

interface Obj {
  id: string;
  image?: string;
  runtime?: string;
  labels?: Record<string, string>;
}

const adapt =
  (o: Obj): Adaptor =>
  ([head, ...rest]) => {
    switch (head) {
      case "id":
        return nonEmpty(o.id);
      case "image":
        return nonEmpty(o.image);
      case "runtime":
        return rest[0] === "name" ? nonEmpty(o.runtime) : undefined;
      case "labels":
        return mapField(rest, o.labels);
    }
    return undefined;
  };

const web: Obj = {
  id: "web-1",
  image: "docker.io/library/nginx:latest",
  runtime: "io.containerd.runc.v2",
  labels: { a: "b", "x.y": "z", empty: "" },
};
const db: Obj = { id: "db", runtime: "io.containerd.runsc.v1", labels: { a: "c" } };

function ids(filters: string[], objs: Obj[] = [web, db]): string[] {
  const f = parseFilters(filters);
  return objs.filter((o) => f.match(adapt(o))).map((o) => o.id);
}

test("empty filters match everything", () => {
  assert.deepEqual(ids([]), ["web-1", "db"]);
  assert.deepEqual(ids([""]), ["web-1", "db"]);
});

test("equality, inequality and regexp", () => {
  assert.deepEqual(ids(["id==db"]), ["db"]);
  assert.deepEqual(ids(["id!=db"]), ["web-1"]);
  assert.deepEqual(ids(["id~=^web"]), ["web-1"]);
  assert.deepEqual(ids(["runtime.name==io.containerd.runc.v2"]), ["web-1"]);
  assert.deepEqual(ids(["image==docker.io/library/nginx:latest"]), ["web-1"]);
});

test("quoted label keys and values", () => {
  assert.deepEqual(ids(['labels."a"==b']), ["web-1"]);
  assert.deepEqual(ids(["labels.a==c"]), ["db"]);
  assert.deepEqual(ids(['labels."x.y"==z']), ["web-1"]);
  assert.deepEqual(ids(["labels.x.y==z"]), ["web-1"]);
  assert.deepEqual(ids(['labels.a=="b"']), ["web-1"]);
  assert.deepEqual(ids(['id=="web-1"']), ["web-1"]);
});

test("|quoted| and /quoted/ values only after ~=", () => {
  assert.deepEqual(ids(["id~=|^w.b-[0-9]$|"]), ["web-1"]);
  // as in containerd, a regexp escape needs a doubled backslash inside quotes
  assert.deepEqual(ids(["id~=|^web-\\\\d$|"]), ["web-1"]);
  assert.throws(
    () => parseFilter("id~=|\\d|"),
    (e) => kindOf(e) === ErrorKind.InvalidArgument,
  );
  assert.deepEqual(ids(["runtime.name~=/runsc/"]), ["db"]);
  assert.deepEqual(ids(["id~=|a\\|b|"], [{ id: "a|b" }, { id: "c" }]), ["a|b"]);
  assert.throws(
    () => parseFilter("id==|web|"),
    (e) => kindOf(e) === ErrorKind.InvalidArgument,
  );
  // a bare slash opens a quote, so topics must be written in double quotes
  assert.throws(
    () => parseFilter("topic==/tasks/exit"),
    (e) => kindOf(e) === ErrorKind.InvalidArgument,
  );
  assert.ok(parseFilter('topic=="/tasks/exit"'));
});

test("escapes in double quotes", () => {
  assert.deepEqual(ids(['id=="a\\"b"'], [{ id: 'a"b' }]), ['a"b']);
  assert.deepEqual(ids(['id=="\\x41\\u00e9"'], [{ id: "Aé" }]), ["Aé"]);
});

test("commas are AND, separate entries are OR", () => {
  assert.deepEqual(ids(["labels.a==b,id==db"]), []);
  assert.deepEqual(ids(["labels.a==b,id~=web"]), ["web-1"]);
  assert.deepEqual(ids(["labels.a==b", "id==db"]), ["web-1", "db"]);
});

test("presence selectors", () => {
  assert.deepEqual(ids(["image"]), ["web-1"]);
  assert.deepEqual(ids(["labels.empty"]), ["web-1"]);
  assert.deepEqual(ids(["labels.nope"]), []);
  assert.deepEqual(ids(["labels.a,image"]), ["web-1"]);
});

test("whitespace around operators is allowed, not before a comma", () => {
  assert.deepEqual(ids(["id == db"]), ["db"]);
  assert.throws(
    () => parseFilter("id==db ,image"),
    (e) => kindOf(e) === ErrorKind.InvalidArgument,
  );
});

test("syntax errors are InvalidArgument", () => {
  for (const bad of [
    "id==",
    "==x",
    "id=x",
    "id<>x",
    "labels.",
    'labels."a',
    "id==a,",
    "id~=|abc",
  ]) {
    assert.throws(
      () => parseFilters([bad]),
      (e) => kindOf(e) === ErrorKind.InvalidArgument,
      bad,
    );
  }
});

test("a bad regexp matches nothing", () => {
  assert.deepEqual(ids(["id~=(("]), []);
});
