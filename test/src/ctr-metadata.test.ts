import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { eventually, TestDaemon } from "./ctr-harness.js";

/** ctr-ts against a daemon: version, namespaces, containers, events, --json. */

const daemon = new TestDaemon();
let skip: string | undefined;
const rootfs = mkdtempSync(join(tmpdir(), "ctr-ts-rootfs-"));

before(async () => {
  skip = await daemon.start();
  if (skip) console.log(`# skipping ctr-ts metadata e2e: ${skip}`);
});
after(async () => {
  await daemon.stop();
  rmSync(rootfs, { recursive: true, force: true });
});

function ok(r: { code: number | null; stderr: string }, what: string): void {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
}

test("version prints client and server blocks; --json parses", async (t) => {
  if (skip) return t.skip(skip);
  const r = await daemon.ctr(["version"]);
  ok(r, "version");
  assert.match(r.stdout, /^Client:\n/);
  assert.match(r.stdout, /Server:\n {2}Version: +\S+\n {2}Revision: .*\n {2}UUID: [0-9a-f-]{36}\n/);
  const j = await daemon.ctr(["version", "--json"]);
  ok(j, "version --json");
  const v = JSON.parse(j.stdout) as { server: { uuid: string; version: string } };
  assert.match(v.server.uuid, /^[0-9a-f-]{36}$/);
});

test("namespaces create / ls / label / rm, aliases and global flags anywhere", async (t) => {
  if (skip) return t.skip(skip);
  ok(await daemon.ctr(["namespaces", "create", "e2e-ns", "team=web", "tier=1"]), "ns create");
  const ls = await daemon.ctr(["ns", "ls"]);
  ok(ls, "ns ls");
  assert.match(ls.stdout, /^NAME +LABELS\n/);
  assert.match(ls.stdout, /^e2e-ns +team=web,tier=1$/m);
  ok(await daemon.ctr(["namespace", "label", "e2e-ns", "tier=", "zone=a"]), "ns label");
  const labels = await daemon.ctr(["ns", "label", "e2e-ns"]);
  assert.equal(labels.stdout, "team=web,zone=a\n");
  const json = await daemon.ctr(["--json", "namespaces", "list"]);
  ok(json, "ns ls --json");
  const list = JSON.parse(json.stdout) as { name: string; labels: Record<string, string> }[];
  assert.deepEqual(list.find((n) => n.name === "e2e-ns")?.labels, { team: "web", zone: "a" });
  const q = await daemon.ctr(["ns", "ls", "-q"]);
  assert.ok(q.stdout.split("\n").includes("e2e-ns"));
  const rm = await daemon.ctr(["ns", "rm", "e2e-ns", "no-such-ns"]);
  // like ctr (1.6): a namespace that is not there counts as removed
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout, "e2e-ns\nno-such-ns\n");
  assert.ok(!(await daemon.ctr(["ns", "ls", "-q"])).stdout.split("\n").includes("e2e-ns"));
});

test("containers create / ls / info / label / rm; events sees /containers/create", async (t) => {
  if (skip) return t.skip(skip);
  const events = daemon.spawnCtr(["events", "--json"]);
  const live = daemon.spawnCtr(["events"]);
  const syncNamespaces: string[] = [];
  try {
    // a subscription is up once it has seen an event: publish namespace creates until both have
    for (
      let i = 0;
      !(
        events.output().includes("/namespaces/create") &&
        live.output().includes("/namespaces/create")
      );
      i++
    ) {
      assert.ok(i < 20, "the event subscriptions never saw an event");
      ok(await daemon.ctr(["ns", "create", `e2e-sync-${i}`]), "sync namespace");
      syncNamespaces.push(`e2e-sync-${i}`);
      await eventually(() => live.output().includes(`e2e-sync-${i}`), "sync event", 2000).catch(
        () => undefined,
      );
    }

    const create = await daemon.ctr([
      "containers",
      "create",
      "--rootfs",
      rootfs,
      "--label",
      "app=web",
      "--env",
      "A=1",
      "web1",
      "/bin/sh",
      "-c",
      "exit 7",
    ]);
    ok(create, "containers create");
    const dup = await daemon.ctr(["c", "create", "--rootfs", rootfs, "web1", "/bin/true"]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const bad = await daemon.ctr(["c", "create", "--rootfs", rootfs, "Bad_ID-", "/bin/true"]);
    assert.equal(bad.code, 1);

    const ls = await daemon.ctr(["containers", "ls"]);
    assert.match(ls.stdout, /^CONTAINER +IMAGE +RUNTIME\nweb1 +- +io\.containerd\.runc\.v2\n$/);
    assert.equal((await daemon.ctr(["c", "ls", "-q"])).stdout, "web1\n");
    assert.equal((await daemon.ctr(["c", "ls", "-q", 'labels."app"==web'])).stdout, "web1\n");
    assert.equal((await daemon.ctr(["c", "ls", "-q", "--label", "app=db"])).stdout, "");

    const info = await daemon.ctr(["c", "info", "web1"]);
    ok(info, "info");
    const rec = JSON.parse(info.stdout) as {
      ID: string;
      Labels: Record<string, string>;
      Runtime: { Name: string };
      Spec: {
        process: { args: string[]; env: string[] };
        root: { path: string };
        linux: { cgroupsPath: string };
      };
    };
    assert.equal(rec.ID, "web1");
    assert.deepEqual(rec.Labels, { app: "web" });
    assert.equal(rec.Runtime.Name, "io.containerd.runc.v2");
    assert.deepEqual(rec.Spec.process.args, ["/bin/sh", "-c", "exit 7"]);
    assert.deepEqual(rec.Spec.process.env, ["A=1"]);
    assert.equal(rec.Spec.root.path, rootfs);
    assert.equal(rec.Spec.linux.cgroupsPath, "/default/web1");

    ok(await daemon.ctr(["c", "label", "web1", "app=", "tier=front"]), "label");
    assert.equal((await daemon.ctr(["c", "label", "web1"])).stdout, "tier=front\n");

    const empty = await daemon.ctr(["c", "ls"], { namespace: syncNamespaces[0] });
    assert.match(empty.stderr, /hint: .*default \(1\)/, "empty namespace hint names the busy one");
    const jls = JSON.parse((await daemon.ctr(["--json", "c", "ls"])).stdout) as { id: string }[];
    assert.deepEqual(
      jls.map((c) => c.id),
      ["web1"],
    );

    ok(await daemon.ctr(["containers", "rm", "web1"]), "containers rm");
    assert.equal((await daemon.ctr(["c", "ls", "-q"])).stdout, "");
    const missing = await daemon.ctr(["c", "rm", "web1"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);

    await eventually(
      () => events.output().includes('"topic":"/containers/delete"'),
      "/containers/delete event",
    );
    const lines = events
      .output()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { topic: string; namespace: string; event: { id?: string } });
    const created = lines.find((l) => l.topic === "/containers/create");
    assert.equal(created?.namespace, "default");
    assert.equal(created?.event.id, "web1");
    assert.ok(lines.some((l) => l.topic === "/containers/update"));
    await eventually(
      () => /\/containers\/create \{"id":"web1"/.test(live.output()),
      "ctr-style event line",
    );
    assert.match(
      live.output(),
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC default \/containers\/create \{"id":"web1",/m,
    );
  } finally {
    await events.stop();
    await live.stop();
    if (syncNamespaces.length > 0) await daemon.ctr(["ns", "rm", ...syncNamespaces]);
  }
});

test("errors: the server's message, exit 1", async (t) => {
  if (skip) return t.skip(skip);
  const r = await daemon.ctr(["c", "info", "nope"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ctr-ts: .*not found/);
});
