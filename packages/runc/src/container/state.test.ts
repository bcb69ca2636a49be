import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs/errors.js";
import { checkId } from "./errors.js";
import { formatTable, parseSignal } from "./ops.js";
import { procStat, rfc3339Nano } from "./state.js";

test("created times print like Go's RFC3339Nano (trailing zeros trimmed)", () => {
  assert.equal(rfc3339Nano(1700000000123456789n), "2023-11-14T22:13:20.123456789Z");
  assert.equal(rfc3339Nano(1700000000120000000n), "2023-11-14T22:13:20.12Z");
  assert.equal(rfc3339Nano(1700000000000000000n), "2023-11-14T22:13:20Z");
});

test("signals parse by number, name and SIG-name in any case", () => {
  assert.equal(parseSignal(undefined), 15);
  assert.equal(parseSignal("9"), 9);
  assert.equal(parseSignal("KILL"), 9);
  assert.equal(parseSignal("sigterm"), 15);
  assert.equal(parseSignal("SIGUSR1"), 10);
  assert.throws(
    () => parseSignal("SIGNOPE"),
    (e: unknown) => kindOf(e) === ErrorKind.InvalidArgument,
  );
  assert.throws(() => parseSignal("0"));
});

test("container ids follow runc's rule", () => {
  assert.equal(checkId("a-b_c.d+1"), "a-b_c.d+1");
  for (const bad of ["", "a/b", "..", "a b"]) assert.throws(() => checkId(bad));
});

test("procStat reads our own state and start time; a dead pid is undefined", () => {
  const st = procStat(process.pid);
  assert.ok(st);
  assert.match(st.startTime, /^\d+$/);
  assert.equal(procStat(0), undefined);
});

test("list's table pads like tabwriter(12, 1, 3)", () => {
  assert.equal(
    formatTable([
      ["ID", "PID", "STATUS"],
      ["a-very-long-container-id", "1", "running"],
    ]),
    "ID                         PID         STATUS\na-very-long-container-id   1           running\n",
  );
});

test("events JSON prints bigint counters as exact integers", async () => {
  const { jsonBigints } = await import("./events.js");
  assert.equal(
    jsonBigints({ a: 1n, b: [18446744073709551615n], c: "x" }),
    '{"a":1,"b":[18446744073709551615],"c":"x"}',
  );
});
