import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CTR_TS, eventually, runProcess, type RunResult } from "./ctr-harness.js";
import { buildImage, ociArchive } from "./image-archive.js";
import {
  Daemon,
  hasCtr,
  hasRuncShim,
  hasTsShim,
  isRoot,
  makeRootfs,
  pidsMentioning,
  teardown,
  tempDir,
} from "./tasks-support.js";

/**
 * Checkpoints into containerd-ts's content store, as containerd 1.6 keeps them: the real
 * `ctr tasks checkpoint ID` (no --image-path) gets the CRIU tar and the spec back as
 * descriptors, builds a checkpoint image of them and prints its name; `ctr-ts tasks restore
 * --checkpoint NAME` restores from that image through Tasks/Create's checkpoint descriptor, and
 * the restored shell loop counts on from its memory. `ctr-ts tasks checkpoint ID` makes the same
 * image as the real ctr (index, labels, image, rw layer); `ctr containers checkpoint --rw` and
 * `restore --rw` carry the rootfs changes. With the real runc shim and runc, and with our shim
 * and runc-ts. Needs CRIU >= 4: in CI (CI set) its absence fails, elsewhere skips.
 */

const CRIU_TAR = "application/vnd.containerd.container.criu.checkpoint.criu.tar";
const CONFIG = "application/vnd.containerd.container.checkpoint.config.v1+proto";
const LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
/** The date in containerd's checkpoint image names: MM-DD-YYYY-HH:MM:SS. */
const CHECKPOINT_DATE = "\\d\\d-\\d\\d-\\d{4}-\\d\\d:\\d\\d:\\d\\d";

const criu = spawnSync("criu", ["--version"], { encoding: "utf8" });
const criuMajor = Number(/Version: (\d+)\./.exec(criu.stdout ?? "")?.[1] ?? 0);
const criuOk = criuMajor >= 4 && spawnSync("criu", ["check"]).status === 0;
const inCI = Boolean(process.env.CI);
const missing = !isRoot ? "needs root" : !criuOk && !inCI ? "needs criu >= 4 (criu check)" : "";

/** Appends a count kept only in the shell's memory (write-only append: CRIU accepts it). */
const COUNTER = "n=0\nwhile :; do n=$((n+1)); echo $n >> /n-$1; sleep 0.1; done\n";

/** The counts the loop of `id` appended, in order. */
function counts(rootfs: string, id: string): number[] {
  const file = join(rootfs, `n-${id}`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
}
const lastCount = (rootfs: string, id: string) => counts(rootfs, id).at(-1) ?? 0;

const VARIANTS = [
  { title: "the runc shim and runc", runtime: "io.containerd.runc.v2", available: hasRuncShim },
  { title: "our shim and runc-ts", runtime: "io.containerd.ts.v2", available: hasTsShim },
];

for (const v of VARIANTS) {
  const skip = missing || (!v.available ? `needs ${v.runtime}` : !hasCtr ? "needs ctr" : false);
  describe(`checkpoint into the content store with ${v.title}`, { skip }, () => {
    const ns = `ckcs-${v.runtime.split(".")[2]}-${process.pid}`;
    let dir = "";
    let rootfs = "";
    let daemon: Daemon;
    const ctrTsMay = (args: string[]): Promise<RunResult> =>
      runProcess(process.execPath, [CTR_TS, "-a", daemon.address, "-n", ns, ...args]);
    const ctrTs = async (args: string[]): Promise<RunResult> => {
      const r = await ctrTsMay(args);
      assert.equal(r.code, 0, `ctr-ts ${args.join(" ")}: ${r.stderr}${r.stdout}`);
      return r;
    };
    const ctr = async (args: string[]): Promise<RunResult> => {
      const r = await daemon.ctr(args, { ns });
      assert.equal(r.code, 0, `ctr ${args.join(" ")}: ${r.stderr}${r.stdout}`);
      return r;
    };
    const status = async (id: string) =>
      (await ctrTs(["tasks", "ls"])).stdout
        .split("\n")
        .find((l) => l.startsWith(`${id} `))
        ?.trim()
        .split(/\s+/)[2];
    const killAndRemoveTask = async (id: string) => {
      await ctrTs(["tasks", "kill", "-s", "SIGKILL", id]);
      for (let i = 0; i < 200 && (await status(id)) !== "STOPPED"; i++)
        await new Promise((r) => setTimeout(r, 50));
      await ctrTs(["tasks", "rm", id]);
    };
    const createContainer = (id: string, ...cmd: string[]) =>
      ctrTs(["containers", "create", "--runtime", v.runtime, "--rootfs", rootfs, id, ...cmd]);
    /** The daemon's temp dirs for CRIU images on their way to and from content. */
    const scratch = () => {
      const d = join(daemon.state, "checkpoints");
      return existsSync(d) ? readdirSync(d) : [];
    };

    /** Starts the counting loop in container `id` of the shared rootfs; its count so far. */
    const startCounter = async (id: string) => {
      await createContainer(id, "/bin/sh", "/counter.sh", id);
      await ctrTs(["tasks", "start", "-d", id]);
      await eventually(() => lastCount(rootfs, id) >= 3, "the loop to count");
      return lastCount(rootfs, id);
    };
    /** The loop dies, its file forgets; restored from `checkpoint` it counts on from memory. */
    const restoreCounter = async (id: string, checkpoint: string, before: number) => {
      await killAndRemoveTask(id);
      writeFileSync(join(rootfs, `n-${id}`), "");
      await ctrTs(["tasks", "restore", "-d", "--checkpoint", checkpoint, id]);
      assert.equal(await status(id), "RUNNING");
      await eventually(() => counts(rootfs, id).length > 0, "the restored loop to count");
      const first = counts(rootfs, id)[0]!;
      assert.ok(first > before, `restored count ${first} does not go on from ${before}`);
    };
    /**
     * A checkpoint image as `ctr images ls` and `ctr content` show it, digests left out; every
     * blob its index names is in the store (the lease kept them until the image held them).
     */
    const checkpointImage = async (name: string) => {
      const images = (await ctr(["images", "ls"])).stdout.split("\n");
      const row = images
        .find((l) => l.startsWith(`${name} `))
        ?.trim()
        .split(/\s+/);
      assert.ok(row, `ctr images ls lacks ${name}`);
      const [, type, digest = ""] = row;
      const index = JSON.parse((await ctr(["content", "get", digest])).stdout) as {
        schemaVersion: number;
        manifests: Array<{
          mediaType: string;
          digest: string;
          annotations?: object;
          platform?: object;
        }>;
        annotations?: Record<string, string>;
      };
      const content = (await ctr(["content", "ls"])).stdout.split("\n").map((l) => l.trim());
      for (const m of index.manifests) {
        assert.ok(
          content.some((l) => l.startsWith(m.digest)),
          `content ls lacks ${m.mediaType}`,
        );
      }
      const labelKeys = (
        content
          .find((l) => l.startsWith(digest))
          ?.split(/\s+/)
          .at(-1) ?? ""
      )
        .split(",")
        .map((l) => l.split("=")[0])
        .sort();
      return {
        type,
        imageLabels: row.at(-1),
        schemaVersion: index.schemaVersion,
        annotations: index.annotations,
        manifests: index.manifests
          .map((m) => JSON.stringify({ t: m.mediaType, a: m.annotations, p: m.platform }))
          .sort(),
        labelKeys,
      };
    };

    before(async () => {
      assert.ok(criuOk, "criu >= 4 with a passing `criu check` is required (CI)");
      dir = tempDir("ctd-ts-ckcs-");
      rootfs = makeRootfs(dir);
      writeFileSync(join(rootfs, "counter.sh"), COUNTER);
      daemon = new Daemon(dir);
      await daemon.start();
    });
    after(async () => {
      await teardown(daemon, dir, ns);
    });

    test("ctr tasks checkpoint makes an image; ctr-ts tasks restore --checkpoint counts on", async () => {
      const id = "k1";
      const before = await startCounter(id);

      const name = (await ctr(["tasks", "checkpoint", id])).stdout.trim();
      assert.match(
        name,
        new RegExp(`^containerd.io/checkpoint/${id}:`),
        "ctr prints the checkpoint image",
      );
      assert.equal(await status(id), "RUNNING", "the task goes on after the checkpoint");
      assert.deepEqual(scratch(), [], "the image dir outlived the checkpoint");

      // the image: an index of the CRIU tar and the spec, both in the content store
      const images = (await ctr(["images", "ls"])).stdout;
      assert.ok(
        images.split("\n").some((l) => l.startsWith(`${name} `)),
        images,
      );
      const indexDigest = /sha256:[0-9a-f]{64}/.exec(
        images.split("\n").find((l) => l.startsWith(`${name} `))!,
      )![0];
      const index = JSON.parse((await ctr(["content", "get", indexDigest])).stdout) as {
        manifests: Array<{ mediaType: string; digest: string; size: number }>;
      };
      const tar = index.manifests.find((m) => m.mediaType === CRIU_TAR);
      assert.ok(tar, JSON.stringify(index));
      assert.ok(
        index.manifests.some((m) => m.mediaType === CONFIG),
        JSON.stringify(index),
      );
      const blobs = (await ctr(["content", "ls", "-q"])).stdout;
      assert.ok(blobs.includes(tar.digest), `content ls lacks the CRIU tar ${tar.digest}`);
      const inventory = (await ctr(["content", "get", tar.digest])).stdout;
      assert.ok(inventory.includes("inventory.img"), "the tar holds CRIU's inventory");

      // the running loop dies; its file forgets the counts; only the image remembers
      await restoreCounter(id, name, before);
      assert.deepEqual(scratch(), [], "the unpacked image outlived Start");

      // the same through the tar's digest
      await restoreCounter(id, tar.digest, before);

      await killAndRemoveTask(id);
      await ctrTs(["containers", "rm", id]);
      assert.deepEqual(
        pidsMentioning("criu").filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir);
          } catch {
            return false;
          }
        }),
        [],
      );
    });

    test("ctr containers checkpoint --task --rw, then ctr containers restore --live --rw", async () => {
      const id = "k3";
      const image = `docker.io/library/ckcs-${v.runtime.split(".")[2]}:1`;
      const img = buildImage(join(dir, "image"), ["sh", "sleep", "echo", "cat"]);
      await ctr(["images", "import", ociArchive(join(dir, "image"), img, image)]);
      // counted into a bind mount: a restore from the image (without --rw) gets a fresh
      // snapshot, but CRIU wants the file the loop may have open where it was
      const data = join(dir, `data-${id}`);
      mkdirSync(data);
      writeFileSync(join(data, "counter.sh"), COUNTER.replace("/n-", "/data/n-"));
      const mount = `type=bind,src=${data},dst=/data,options=rbind:rw`;
      // the marker goes to the container's own rootfs: only the rw layer carries it over
      const marker = `rw-layer-${id}`;
      const counter = [
        "/bin/sh",
        "-c",
        `echo ${marker} > /marker && exec /bin/sh /data/counter.sh ${id}`,
      ];
      await ctr(["run", "-d", "--runtime", v.runtime, "--mount", mount, image, id, ...counter]);
      await eventually(() => lastCount(data, id) >= 3, "the loop to count");
      const before = lastCount(data, id);

      const ref = `ckcs/${id}:1`;
      await ctr(["containers", "checkpoint", "--task", "--rw", id, ref]);
      assert.equal(await status(id), "RUNNING");
      await killAndRemoveTask(id);
      await ctr(["containers", "rm", id]);
      writeFileSync(join(data, `n-${id}`), "");

      await ctr(["containers", "restore", "--live", "--rw", id, ref]);
      assert.equal(await status(id), "RUNNING");
      const cat = await ctr(["tasks", "exec", "--exec-id", "marker", id, "/bin/cat", "/marker"]);
      assert.equal(cat.stdout.trim(), marker, "the rw layer's file is back in the new rootfs");
      await eventually(() => counts(data, id).length > 0, "the restored loop to count");
      const first = counts(data, id)[0]!;
      assert.ok(first > before, `restored count ${first} does not go on from ${before}`);
      assert.deepEqual(scratch(), [], "the unpacked image outlived Start");
      await killAndRemoveTask(id);
      await ctr(["containers", "rm", id]);
    });

    test("ctr-ts tasks checkpoint makes an image ctr lists; ctr-ts tasks restore --checkpoint counts on", async () => {
      const id = "k4";
      const before = await startCounter(id);

      const name = (await ctrTs(["tasks", "checkpoint", id])).stdout.trim();
      assert.match(name, new RegExp(`^containerd.io/checkpoint/${id}:${CHECKPOINT_DATE}$`));
      assert.equal(await status(id), "RUNNING", "the task goes on after the checkpoint");
      const ours = await checkpointImage(name);
      assert.equal(ours.manifests.length, 2, "the CRIU tar and the spec");
      assert.equal(ours.imageLabels, "containerd.io/checkpoint=true");
      assert.deepEqual(scratch(), []);

      await restoreCounter(id, name, before);

      // the real ctr's image of the same task has the same shape
      await new Promise((r) => setTimeout(r, 1100)); // ctr names to the second: no clash
      const theirs = await checkpointImage((await ctr(["tasks", "checkpoint", id])).stdout.trim());
      assert.deepEqual(ours, theirs);
      await killAndRemoveTask(id);
      await ctrTs(["containers", "rm", id]);
    });

    test("ctr-ts tasks checkpoint of an image's container: image, rw layer, as ctr makes it", async () => {
      const id = "k5";
      const image = `docker.io/library/ckcs-ts-${v.runtime.split(".")[2]}:1`;
      const img = buildImage(join(dir, "image-k5"), ["sh", "sleep"]);
      await ctr(["images", "import", ociArchive(join(dir, "image-k5"), img, image)]);
      await ctr([
        "run",
        "-d",
        "--runtime",
        v.runtime,
        image,
        id,
        "/bin/sh",
        "-c",
        "echo rw > /rw; exec sleep 1000",
      ]);
      assert.equal(await status(id), "RUNNING");

      const oursName = (await ctrTs(["tasks", "checkpoint", id])).stdout.trim();
      const ours = await checkpointImage(oursName);
      await new Promise((r) => setTimeout(r, 1100)); // ctr names to the second: no clash
      const theirs = await checkpointImage((await ctr(["tasks", "checkpoint", id])).stdout.trim());
      assert.deepEqual(ours, theirs);
      assert.equal(ours.annotations?.["image.name"], image);
      assert.ok(
        ours.manifests.some((m) => m.startsWith(`{"t":"${LAYER_GZIP}"`)),
        "the rw layer",
      );
      assert.equal(await status(id), "RUNNING");
      // ctr-ts restores it onto the container's snapshot: its mounts are the task's rootfs.
      // The real ctr gave the task a stdin FIFO; ctr-ts -d gives none (runc-ts stands in one)
      await killAndRemoveTask(id);
      await ctrTs(["tasks", "restore", "-d", "--checkpoint", oursName, id]);
      assert.equal(await status(id), "RUNNING");
      const rw = await ctrTs([
        "tasks",
        "exec",
        "--exec-id",
        "rw",
        id,
        "/bin/sh",
        "-c",
        "read l < /rw; echo $l",
      ]);
      assert.equal(rw.stdout, "rw\n");
      await killAndRemoveTask(id);
      await ctr(["containers", "rm", id]);
    });

    test("restoring from a checkpoint the store lacks fails NotFound, nothing left", async () => {
      const id = "k2";
      await createContainer(id, "/bin/true");
      const zero = `sha256:${"0".repeat(64)}`;
      const r = await ctrTsMay(["tasks", "restore", "-d", "--checkpoint", zero, id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not found/);
      assert.equal(await status(id), undefined, "no task was created");
      assert.deepEqual(scratch(), []);
      await ctrTs(["containers", "rm", id]);
    });
  });
}
