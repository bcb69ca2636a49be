import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Namespaces } from "@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js";
import {
  EventHistory,
  type ReplayRequestSchema,
} from "@containerd-ts/gen/containerd_ts/events/v1/history_pb.js";
import { testDaemon } from "../../test-daemon.js";

async function startDaemon(t: TestContext) {
  const { transport } = await testDaemon(t, "ctd-history-grpc-");
  return {
    history: createClient(EventHistory, transport),
    namespaces: createClient(Namespaces, transport),
  };
}

type Req = MessageInitShape<typeof ReplayRequestSchema>;

async function replayed(
  history: ReturnType<typeof createClient<typeof EventHistory>>,
  req: Req,
): Promise<Array<[number, string, string]>> {
  const out: Array<[number, string, string]> = [];
  for await (const e of history.replay(req)) out.push([Number(e.seq), e.namespace, e.topic]);
  return out;
}

async function failureCode(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

test("Replay streams stored envelopes with their sequence numbers; Bounds names the range", async (t) => {
  const { history, namespaces } = await startDaemon(t);
  for (const name of ["h1", "h2", "h3"]) await namespaces.create({ namespace: { name } });
  await namespaces.delete({ name: "h2" });
  assert.deepEqual(await replayed(history, {}), [
    [1, "h1", "/namespaces/create"],
    [2, "h2", "/namespaces/create"],
    [3, "h3", "/namespaces/create"],
    [4, "h2", "/namespaces/delete"],
  ]);
  const range = {
    since: { point: { case: "seq", value: 2n } },
    until: { point: { case: "seq", value: 3n } },
  } as const;
  assert.deepEqual(
    (await replayed(history, range)).map(([seq]) => seq),
    [2, 3],
  );
  assert.deepEqual(
    (await replayed(history, { filters: ["namespace==h2"] })).map(([seq]) => seq),
    [2, 4],
  );
  const b = await history.bounds({});
  assert.equal(b.firstSeq, 1n);
  assert.equal(b.lastSeq, 4n);
  assert.ok(b.firstTimestamp);
});

test("follow streams a live event after the stored ones", async (t) => {
  const { history, namespaces } = await startDaemon(t);
  await namespaces.create({ namespace: { name: "before" } });
  const ctl = new AbortController();
  const seen: number[] = [];
  const stream = history.replay({ follow: true }, { signal: ctl.signal });
  for await (const e of stream) {
    seen.push(Number(e.seq));
    if (e.seq === 1n) await namespaces.create({ namespace: { name: "after" } });
    if (e.seq === 2n) break;
  }
  ctl.abort();
  assert.deepEqual(seen, [1, 2]);
});

test("bad requests answer InvalidArgument", async (t) => {
  const { history } = await startDaemon(t);
  const seq = (value: bigint) => ({ point: { case: "seq" as const, value } });
  const time = (seconds: bigint, nanos = 0) => ({
    point: { case: "timestamp" as const, value: create(TimestampSchema, { seconds, nanos }) },
  });
  const bad: Req[] = [
    { filters: ["topic=="] },
    { since: seq(5n), until: seq(4n) },
    { since: time(100n), until: time(99n) },
    { since: time(1n, 2_000_000_000) },
    { until: seq(1n << 60n) },
  ];
  for (const req of bad) {
    assert.equal(await failureCode(replayed(history, req)), Code.InvalidArgument);
  }
  assert.equal(await failureCode(replayed(history, { since: seq(0n), until: seq(0n) })), undefined);
});
