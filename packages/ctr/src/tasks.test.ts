import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { MetricsSchema } from "@containerd-ts/gen/io/containerd/cgroups/v1/metrics_pb.js";
import { parseSignal } from "./signals.js";
import { execProcessSpec } from "./ops/exec.js";
import { buildSpec } from "./spec/oci.js";
import {
  createFifoSet,
  fifoSetOf,
  openFifoReader,
  openFifoWriter,
  removeFifoSet,
} from "./stdio/fifo.js";
import { decodeMetrics } from "./format/metrics.js";

const io = { stdin: false, tty: false, detach: false, fifoRoot: "/unused" };

test("signals by name, short name or number", () => {
  assert.equal(parseSignal("SIGTERM"), 15);
  assert.equal(parseSignal("kill"), 9);
  assert.equal(parseSignal("HUP"), 1);
  assert.equal(parseSignal("9"), 9);
  assert.throws(() => parseSignal("SIGNOPE"));
  assert.throws(() => parseSignal("0"));
});

test("an exec's process is the container's with new args, terminal, cwd and env", () => {
  const base = buildSpec({
    id: "c",
    namespace: "n",
    rootfs: "/r",
    args: ["/bin/sleep", "9"],
    env: ["A=1"],
  }).process;
  const p = execProcessSpec(base, {
    execId: "e1",
    args: ["/bin/ps"],
    cwd: "/tmp",
    env: ["A=2", "B=3"],
    io: { ...io, tty: true },
  });
  assert.deepEqual(p.args, ["/bin/ps"]);
  assert.equal(p.terminal, true);
  assert.equal(p.cwd, "/tmp");
  assert.deepEqual(p.env, ["A=2", "B=3"]);
  assert.deepEqual(p.capabilities, base.capabilities);
  assert.deepEqual(base.args, ["/bin/sleep", "9"], "the container's spec is left alone");
  assert.equal(
    "terminal" in execProcessSpec({ ...base, terminal: true }, { execId: "e", args: ["/x"], io }),
    false,
  );
});

test("FIFO sets: cio layout, data flows, EOF when the writer closes, removal", async () => {
  const root = mkdtempSync(join(tmpdir(), "ctr-ts-fifo-test-"));
  try {
    const set = createFifoSet(root, "web", { stdin: true, stdout: true, stderr: false });
    assert.equal(set.stdout, join(set.dir, "web-stdout"));
    assert.equal(set.stderr, "");
    assert.ok(lstatSync(set.stdin).isFIFO());
    assert.deepEqual(fifoSetOf(set), set);
    const reader = openFifoReader(set.stdout);
    let got = "";
    reader.on("data", (b: Buffer) => (got += b.toString()));
    const ended = new Promise((r) => reader.once("close", r));
    const writer = openFifoWriter(set.stdout); // stands in for the shim
    writer.end("hello");
    await ended;
    assert.equal(got, "hello");
    removeFifoSet(set);
    assert.equal(existsSync(set.dir), false);
    removeFifoSet({ dir: root, stdin: "", stdout: "", stderr: "" });
    assert.equal(existsSync(root), true, "only FIFO dirs of our own shape are removed");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("cgroup v1 metrics print as ctr's METRIC/VALUE rows", () => {
  const m = create(MetricsSchema, {
    pids: { current: 2n, limit: 0n },
    cpu: { usage: { total: 100n, perCpu: [40n, 60n] } },
    memory: { cache: 5n, usage: { usage: 600n, limit: 1000n } },
  });
  const d = decodeMetrics({
    typeUrl: "io.containerd.cgroups.v1.Metrics",
    value: toBinary(MetricsSchema, m),
  });
  assert.deepEqual(d.rows, [
    ["memory.usage_in_bytes", "600"],
    ["memory.limit_in_bytes", "1000"],
    ["memory.stat.cache", "5"],
    ["cpuacct.usage", "100"],
    ["cpuacct.usage_percpu", "[40 60]"],
    ["pids.current", "2"],
    ["pids.limit", "0"],
  ]);
  assert.deepEqual(decodeMetrics({ typeUrl: "x.Unknown", value: new Uint8Array() }), {
    rows: [],
    json: { type_url: "x.Unknown" },
  });
});
