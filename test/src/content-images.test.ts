import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { Leases } from "@containerd-ts/gen/containerd/services/leases/v1/leases_pb.js";
import { useRealContainerd } from "./ctr-harness.js";
import { hasRealCtr, MetadataDaemon, RealMetadataDaemon } from "./daemon-harness.js";
import {
  buildImage,
  dockerArchive,
  ociArchive,
  sha256,
  type BusyboxImage,
} from "./image-archive.js";

/**
 * The Content and Images services driven by the REAL ctr (Debian's containerd 1.6): content
 * ls/ingest/get/active/rm, images import (OCI and Docker archives made here from
 * /bin/busybox, --no-unpack: there is no snapshotter), ls, export, tag, label, rm --sync.
 * CTR_TS_E2E_DAEMON=containerd runs the same against the real containerd (needs root).
 */

const skip = !hasRealCtr
  ? "ctr not installed"
  : !existsSync("/bin/busybox")
    ? "needs /bin/busybox"
    : useRealContainerd && process.getuid?.() !== 0
      ? "the real containerd needs root"
      : false;

describe("Content and Images with the real ctr", { skip }, () => {
  const d = useRealContainerd ? new RealMetadataDaemon() : new MetadataDaemon();
  const NS = "ci-e2e";
  const ctr = (...args: string[]) => d.ctr(args, NS);
  const ok = async (...args: string[]) => {
    const r = await ctr(...args);
    assert.equal(r.code, 0, `ctr ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** ctr with bytes on its stdin (content ingest). */
  const ctrInput = (input: Buffer | string, ...args: string[]) => {
    const r = spawnSync("ctr", ["-a", d.address, "-n", NS, ...args], { input });
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const listed = async (...args: string[]) => (await ok(...args)).split("\n").filter(Boolean);
  let img: BusyboxImage;

  before(async () => {
    img = buildImage(d.dir);
    await d.start();
  });
  after(() => d.cleanup());

  test("content ls and images ls of an empty namespace print their headers and exit 0", async () => {
    assert.match(await ok("content", "ls"), /^DIGEST\tSIZE\tAGE\tLABELS\n$/);
    assert.match(
      await ok("images", "ls"),
      /^REF\s+TYPE\s+DIGEST\s+SIZE\s+PLATFORMS\s+LABELS\s*\n$/,
    );
    assert.deepEqual(await listed("images", "ls", "-q"), []);
  });

  test("content ingest / get / label / rm; a wrong expected digest fails and stays active", async () => {
    const data = "hello from ctr content ingest\n";
    const digest = `sha256:${sha256(data)}`;
    // ctr ingests under a lease of its own and deletes it when done; containerd then collects
    // whatever nothing else references, so a lease of the test's keeps the blob and the ingest
    const leases = createClient(Leases, d.transport());
    const call = { headers: { "containerd-namespace": NS } };
    await leases.create({ id: "ci-keep" }, call);
    await leases.addResource({ id: "ci-keep", resource: { id: digest, type: "content" } }, call);
    await leases.addResource({ id: "ci-keep", resource: { id: "e2e-bad", type: "ingests" } }, call);
    const ingest = ctrInput(data, "content", "ingest", "e2e-ref");
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.ok((await listed("content", "ls", "-q")).includes(digest));
    assert.equal(await ok("content", "get", digest), data);
    // the same blob again, announced by digest: already there, nothing to write
    const again = ctrInput(data, "content", "ingest", "--expected-digest", digest, "e2e-ref-2");
    assert.equal(again.code, 0, again.stderr);

    const bad = ctrInput(
      "other bytes",
      "content",
      "ingest",
      "--expected-digest",
      `sha256:${"0".repeat(64)}`,
      "e2e-bad",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unexpected commit digest .*failed precondition/);
    assert.match(await ok("content", "active"), /^e2e-bad\s+11B\s/m);

    await ok("content", "label", digest, "team=ci", "tier=1");
    assert.match(
      await ok("content", "ls"),
      new RegExp(`^${digest}\\s+\\S+\\s+.*(team=ci,tier=1|tier=1,team=ci)$`, "m"),
    );

    const other = await d.ctr(["content", "get", digest], "ci-e2e-other");
    assert.equal(other.code, 1, "a blob is visible only in its namespace");
    assert.match(other.stderr, /not found/);

    await ok("content", "rm", digest);
    assert.ok(!(await listed("content", "ls", "-q")).includes(digest));
    const gone = await ctr("content", "get", digest);
    assert.equal(gone.code, 1);
  });

  test("images import (OCI archive, --no-unpack), ls, export, tag, label, rm --sync", async () => {
    const name = "docker.io/library/ci-busybox:1";
    await ok("images", "import", "--no-unpack", ociArchive(d.dir, img, name));
    const ls = await ok("images", "ls");
    const row = ls.split("\n").find((l) => l.startsWith(`${name} `));
    assert.ok(row, ls);
    assert.match(row, /application\/vnd\.oci\.image\.manifest\.v1\+json/);
    assert.ok(row.includes(img.digests.manifest));
    assert.match(row, /linux\/amd64/);
    const blobs = await listed("content", "ls", "-q");
    for (const digest of Object.values(img.digests)) assert.ok(blobs.includes(digest), digest);

    // the export reads every blob back through Content/Read
    const exported = join(d.dir, "export.tar");
    await ok("images", "export", exported, name);
    const layerPath = `blobs/sha256/${img.digests.layer.slice(7)}`;
    const layer = spawnSync("tar", ["-xOf", exported, layerPath], { maxBuffer: 64 << 20 });
    assert.equal(layer.status, 0, layer.stderr.toString());
    assert.equal(sha256(layer.stdout), sha256(img.layer));

    await ok("images", "tag", name, "docker.io/library/ci-busybox:2");
    await ok("images", "label", "docker.io/library/ci-busybox:2", "stage=test");
    assert.deepEqual(await listed("images", "ls", "-q", "labels.stage==test"), [
      "docker.io/library/ci-busybox:2",
    ]);
    assert.deepEqual(await listed("images", "ls", "-q", "name~=ci-busybox"), [
      name,
      "docker.io/library/ci-busybox:2",
    ]);

    await ok("images", "rm", "docker.io/library/ci-busybox:2");
    // the last image goes with --sync: its content is collected before ctr returns
    await ok("images", "rm", "--sync", name);
    assert.deepEqual(await listed("images", "ls", "-q"), []);
    const left = await listed("content", "ls", "-q");
    for (const digest of Object.values(img.digests)) assert.ok(!left.includes(digest), digest);
  });

  test("images import of a Docker archive names the image by its RepoTags", async () => {
    const tag = "docker.io/library/ci-docker:latest";
    await ok("images", "import", "--no-unpack", dockerArchive(d.dir, img, tag));
    const row = (await ok("images", "ls")).split("\n").find((l) => l.startsWith(`${tag} `));
    assert.ok(row);
    assert.match(row, /application\/vnd\.docker\.distribution\.manifest\.v2\+json/);
    // a restart keeps the image and, referenced by it, its content (start-up GC included)
    await d.stop();
    await d.start();
    assert.ok((await listed("images", "ls", "-q")).includes(tag));
    assert.equal(
      sha256(Buffer.from(await ok("content", "get", img.digests.config))),
      sha256(img.config),
    );
    const missing = await ctr("images", "rm", tag, "docker.io/library/not-there:1");
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stderr, /not-there:1: image not found/);
    assert.deepEqual(await listed("images", "ls", "-q"), []);
    const config = readFileSync(join(d.dir, "docker", `${sha256(img.config)}.json`));
    assert.equal(sha256(config), img.digests.config.slice(7));
  });
});
