import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CTR_TS, eventually, runProcess, type RunResult } from "./ctr-harness.js";
import { hasRealCtr, MetadataDaemon } from "./daemon-harness.js";
import { launchContainerd, stopContainerd, writeContainerdConfig } from "./real-containerd.js";

/**
 * ctr-ts events --since/--until against containerd-ts: the stored history outlives a SIGKILL
 * of the daemon, is replayed in order with continuous sequence numbers, and hands over to
 * live events. The real containerd has no history: a clear error.
 */

const daemon = new MetadataDaemon();
const rootfs = mkdtempSync(join(tmpdir(), "evh-rootfs-"));

before(() => daemon.start());
after(async () => {
  await daemon.cleanup();
  rmSync(rootfs, { recursive: true, force: true });
});

const ctrTs = (address: string, args: string[], namespace = "default") =>
  runProcess(process.execPath, [CTR_TS, "-a", address, "-n", namespace, ...args]);

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r;
}

interface JsonEvent {
  seq: number;
  timestamp: string;
  namespace: string;
  topic: string;
  event: { id?: string; name?: string };
}

const parseLines = (stdout: string): JsonEvent[] =>
  stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as JsonEvent);

async function events(args: string[]): Promise<JsonEvent[]> {
  const r = ok(await ctrTs(daemon.address, ["events", "--json", ...args]), args.join(" "));
  return parseLines(r.stdout);
}

const what = (e: JsonEvent) => `${e.namespace} ${e.topic} ${e.event.id ?? e.event.name}`;

/** A ctr-ts events left running; its stdout accumulates. */
function follow(args: string[], address = daemon.address) {
  const child = spawn(process.execPath, [CTR_TS, "-a", address, "events", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  return {
    lines: () => parseLines(out.slice(0, out.lastIndexOf("\n") + 1)),
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

let before1: JsonEvent[] = [];

test("the history outlives a SIGKILL and is replayed in order with continuous sequence numbers", async () => {
  const a = daemon.address;
  ok(await ctrTs(a, ["namespaces", "create", "evh-a"]), "ns create evh-a");
  ok(await ctrTs(a, ["namespaces", "create", "evh-b"]), "ns create evh-b");
  for (const [ns, id] of [
    ["evh-a", "evh-c1"],
    ["evh-b", "evh-c2"],
  ] as const) {
    const create = ["containers", "create", "--rootfs", rootfs, id, "/bin/true"];
    ok(await ctrTs(a, create, ns), `create ${id}`);
  }
  ok(await ctrTs(a, ["containers", "rm", "evh-c1"], "evh-a"), "rm evh-c1");

  await daemon.stop("SIGKILL");
  await daemon.start();

  before1 = await events(["--since", "seq:1", "--until", "0s"]);
  assert.deepEqual(before1.map(what), [
    "default /namespaces/create evh-a",
    "default /namespaces/create evh-b",
    "evh-a /containers/create evh-c1",
    "evh-b /containers/create evh-c2",
    "evh-a /containers/delete evh-c1",
  ]);
  assert.deepEqual(
    before1.map((e) => e.seq),
    [1, 2, 3, 4, 5],
  );

  const human = ok(await ctrTs(a, ["events", "--since", "seq:4", "--until", "seq:4"]), "human");
  assert.match(
    human.stdout,
    /^4 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC evh-b \/containers\/create \{"id":"evh-c2"/,
  );
  assert.equal(human.stdout.trim().split("\n").length, 1);
});

test("--since/--until by sequence number or by time select the range; filters apply", async () => {
  assert.equal(before1.length, 5, "needs the history of the previous test");
  const seqs = (es: JsonEvent[]) => es.map((e) => e.seq);
  assert.deepEqual(seqs(await events(["--since", "seq:2", "--until", "seq:4"])), [2, 3, 4]);
  const [t2, t4] = [before1[1]!.timestamp, before1[3]!.timestamp];
  assert.deepEqual(seqs(await events(["--since", t2, "--until", t4])), [2, 3, 4]);
  assert.deepEqual(seqs(await events(["--since", "seq:3", "--until", t4])), [3, 4]);
  const createdInB = await events([
    "--since",
    "seq:1",
    "--until",
    "0s",
    'topic=="/containers/create",namespace==evh-b',
  ]);
  assert.deepEqual(createdInB.map(what), ["evh-b /containers/create evh-c2"]);
  const either = await events([
    "--since",
    "1h",
    "--until",
    "0s",
    "namespace==evh-a",
    "--filter",
    "event.name==evh-b",
  ]);
  assert.deepEqual(seqs(either), [2, 3, 5]);

  const bad = await ctrTs(daemon.address, ["events", "--since", "seq:4", "--until", "seq:2"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ctr-ts: .*invalid argument/);
  const unparsable = await ctrTs(daemon.address, ["events", "--since", "last tuesday"]);
  assert.equal(unparsable.code, 1);
  assert.match(unparsable.stderr, /invalid --since/);
});

test("--since without --until replays, then follows live events; --until to come ends the stream", async () => {
  const last = before1.length;
  const live = follow(["--json", "--since", `seq:${last}`]);
  const ended = follow(["--json", "--since", `seq:${last}`, "--until", `seq:${last + 2}`]);
  try {
    await eventually(
      () => live.lines().length === 1 && ended.lines().length === 1,
      "the replay of the newest stored event",
    );
    ok(await ctrTs(daemon.address, ["namespaces", "create", "evh-live1"]), "ns create evh-live1");
    ok(await ctrTs(daemon.address, ["namespaces", "create", "evh-live2"]), "ns create evh-live2");
    await eventually(() => live.lines().length === 3, "the live events");
    assert.deepEqual(
      live.lines().map((e) => e.seq),
      [last, last + 1, last + 2],
    );
    assert.equal(live.lines()[2]!.event.name, "evh-live2");
    assert.equal(await ended.exited, 0, ended.stderr());
    assert.deepEqual(
      ended.lines().map((e) => e.seq),
      [last, last + 1, last + 2],
    );
  } finally {
    await live.stop();
    await ended.stop();
  }
});

test("against the real containerd: live events work, --since is a clear error", async (t) => {
  if (!hasRealCtr) return t.skip("no containerd installed");
  const dir = mkdtempSync(join(tmpdir(), "evh-real-"));
  const sock = join(dir, "containerd.sock");
  writeContainerdConfig(dir, sock);
  let proc;
  try {
    const up = async () => (await ctrTs(sock, ["version"])).code === 0;
    proc = (await launchContainerd(dir, sock, up)).proc;
    const live = follow(["--json"], sock);
    try {
      // the subscription is up once it sees an event: create namespaces until one shows
      for (let i = 0; live.lines().length === 0; i++) {
        if (i === 100) assert.fail(`no live event from containerd: ${live.stderr()}`);
        ok(await ctrTs(sock, ["namespaces", "create", `evh-real-${i}`]), "ns create");
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(live.lines()[0]!.topic, "/namespaces/create");
    } finally {
      await live.stop();
    }
    const r = await ctrTs(sock, ["events", "--since", "seq:1", "--until", "0s"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ctr-ts: this daemon keeps no event history/);
    assert.equal(r.stdout, "");
  } finally {
    await stopContainerd(proc);
    rmSync(dir, { recursive: true, force: true });
  }
});
