import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { createClient } from "@connectrpc/connect";
import { Containers } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import { MetadataStore } from "@containerd-ts/containerd/store/index.js";
import { hasRealCtr, MetadataDaemon } from "./daemon-harness.js";

/**
 * containerd-ts driven by the REAL ctr (Debian's containerd 1.6): the metadata API must
 * be indistinguishable from containerd's for namespaces, containers, leases and events.
 */
describe(
  "containerd-ts metadata API with the real ctr",
  { skip: !hasRealCtr && "ctr not installed" },
  () => {
    const d = new MetadataDaemon();
    const rootfs = join(d.dir, "rootfs");
    const NS = "e2e";
    const ctr = (...args: string[]) => d.ctr(args, NS);
    const ok = async (...args: string[]) => {
      const r = await ctr(...args);
      assert.equal(r.code, 0, `ctr ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const infoSpec = async (id: string) =>
      JSON.parse(await ok("containers", "info", id)).Spec as unknown;
    const specBytes = async (id: string) => {
      const c = createClient(Containers, d.transport());
      const res = await c.get({ id }, { headers: { "containerd-namespace": NS } });
      return Buffer.from(res.container!.spec!.value);
    };

    before(async () => {
      mkdirSync(join(rootfs, "bin"), { recursive: true });
      writeFileSync(join(rootfs, "bin", "sh"), "");
      await d.start();
    });
    after(() => d.cleanup());

    test("version shows the server version and UUID", async () => {
      const r = await d.ctr(["version"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Server:\s+Version:\s+\S+\s+Revision:\s+\S+\s+UUID: [0-9a-f-]{36}/);
    });

    test("namespaces create, ls, label, rm", async () => {
      assert.equal((await d.ctr(["namespaces", "create", "n1", "team=a"])).code, 0);
      assert.equal((await d.ctr(["namespaces", "label", "n1", "stage=dev"])).code, 0);
      const ls = (await d.ctr(["namespaces", "ls"])).stdout;
      assert.match(ls, /^n1\s+stage=dev,team=a\s*$/m);
      const dup = await d.ctr(["namespaces", "create", "n1"]);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /already exists/);
      assert.equal((await d.ctr(["namespaces", "rm", "n1"])).code, 0);
      assert.doesNotMatch((await d.ctr(["namespaces", "ls", "-q"])).stdout, /^n1$/m);
    });

    test("containers create, ls, info, label, rm; a running ctr events sees /containers/create", async () => {
      const events = d.spawnCtr(["events"]);
      try {
        // the subscriber is ready once it reports a create; retry until then
        for (let i = 0; i < 50 && !events.output().includes("/containers/create"); i++) {
          await ok("containers", "create", "--rootfs", rootfs, `probe-${i}`, "/bin/sh");
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.match(events.output(), new RegExp(`${NS} /containers/create \\{"id":"probe-\\d+"`));
      } finally {
        await events.stop();
      }
      await ok(
        "containers",
        "create",
        "--label",
        "app=web",
        "--rootfs",
        rootfs,
        "web",
        "/bin/echo",
        "hello",
      );
      assert.match(await ok("containers", "ls"), /^web\s+-\s+io\.containerd\.runc\.v2\s*$/m);
      assert.match(await ok("containers", "ls", "-q"), /^web$/m);
      const info = JSON.parse(await ok("containers", "info", "web")) as {
        ID: string;
        Labels: Record<string, string>;
        Spec: { process: { args: string[] } };
      };
      assert.equal(info.ID, "web");
      assert.deepEqual(info.Spec.process.args, ["/bin/echo", "hello"]);
      await ok("containers", "label", "web", "tier=front");
      const labelled = JSON.parse(await ok("containers", "info", "web")) as {
        Labels: Record<string, string>;
      };
      assert.equal(labelled.Labels["tier"], "front");
      assert.equal(labelled.Labels["app"], "web");
      await ok("containers", "create", "--rootfs", rootfs, "gone", "/bin/sh");
      await ok("containers", "rm", "gone");
      assert.doesNotMatch(await ok("containers", "ls", "-q"), /^gone$/m);
      // ctr wraps every create in a lease and deletes it afterwards
      assert.equal((await ok("leases", "ls", "-q")).trim(), "");
    });

    test("duplicate create is AlreadyExists, a bad id is InvalidArgument, nothing is written", async () => {
      const dup = await ctr("containers", "create", "--rootfs", rootfs, "web", "/bin/sh");
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /already exists/);
      const bad = await ctr("containers", "create", "--rootfs", rootfs, "bad..id", "/bin/sh");
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid argument/);
      assert.doesNotMatch(await ok("containers", "ls", "-q"), /bad/);
    });

    test("SIGKILL and restart: everything is still there, the spec round-trips byte for byte, the event sequence continues", async () => {
      const specBefore = await infoSpec("web");
      const bytesBefore = await specBytes("web");
      const lsBefore = await ok("containers", "ls");
      const store = MetadataStore.openRoot(d.root);
      const seqBefore = store.events.lastSeq();
      store.close();
      assert.ok(seqBefore > 0);

      assert.equal(await d.stop("SIGKILL"), null);
      assert.ok(existsSync(d.address), "a killed daemon leaves its socket behind");
      await d.start();

      assert.deepEqual(await infoSpec("web"), specBefore);
      assert.deepEqual(await specBytes("web"), bytesBefore);
      assert.equal(await ok("containers", "ls"), lsBefore);
      await ok("containers", "create", "--rootfs", rootfs, "after-restart", "/bin/sh");
      const after = MetadataStore.openRoot(d.root);
      const next = after.events.range({ afterSeq: seqBefore });
      after.close();
      assert.equal(next[0]?.seq, seqBefore + 1);
      assert.equal(next[0]?.topic, "/containers/create");
    });

    test("200 parallel creates from separate gRPC clients all succeed", async () => {
      const spec = {
        typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
        value: Buffer.from("{}"),
      };
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          createClient(Containers, d.transport()).create(
            { container: { id: `par-${i}`, runtime: { name: "io.containerd.runc.v2" }, spec } },
            { headers: { "containerd-namespace": "parallel" } },
          ),
        ),
      );
      const failed = results.filter((r) => r.status === "rejected");
      assert.deepEqual(failed, []);
      const ids = (await d.ctr(["containers", "ls", "-q"], "parallel")).stdout.trim().split("\n");
      assert.equal(ids.length, 200);
    });

    test("a second daemon on the same root refuses to start with exit code 1", async () => {
      const second = new MetadataDaemon();
      try {
        const proc = d.spawn(["--address", second.address]);
        const [code] = (await once(proc, "exit")) as [number];
        assert.equal(code, 1);
        assert.match(d.log, /in use by another containerd-ts/);
      } finally {
        await second.cleanup();
      }
    });

    test("SIGTERM stops cleanly and removes the socket", async () => {
      assert.equal(await d.stop("SIGTERM"), 0);
      assert.equal(existsSync(d.address), false);
    });
  },
);
