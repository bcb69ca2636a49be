import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFilters, quoteFilterValue, shortcutFilter } from "./filters.js";
import { labelUpdate, parseKeyValues } from "./labels.js";

test("filter values are quoted only when the lexer needs it", () => {
  assert.equal(quoteFilterValue("io.containerd.runc.v2"), "io.containerd.runc.v2");
  assert.equal(quoteFilterValue("/bin/sh"), '"/bin/sh"');
  assert.equal(quoteFilterValue("a b,c"), '"a b,c"');
  assert.equal(quoteFilterValue('say "hi"'), '"say \\"hi\\""');
});

test("shortcuts AND together; raw filters stay OR'ed", () => {
  assert.equal(
    shortcutFilter({ labels: ["app=web", "com.example/tier"], runtime: "io.containerd.runc.v2" }),
    'labels.app==web,labels."com.example/tier",runtime.name==io.containerd.runc.v2',
  );
  assert.deepEqual(buildFilters(["id~=^a", "id~=^b"], { labels: ["x=1"] }), [
    "id~=^a,labels.x==1",
    "id~=^b,labels.x==1",
  ]);
  assert.deepEqual(buildFilters([]), []);
});

test("labels: k=v, k= and k", () => {
  assert.deepEqual(parseKeyValues(["a=b", "c=", "d", "e=f=g"]), { a: "b", c: "", d: "", e: "f=g" });
  assert.throws(() => parseKeyValues(["=x"]));
  assert.deepEqual(labelUpdate(["a=1", "b="]), {
    labels: { a: "1" },
    paths: ["labels.a", "labels.b"],
  });
});
