import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CTR_TS, runProcess, type RunResult } from "./ctr-harness.js";
import { buildImage, ociArchive, sha256 } from "./image-archive.js";
import { describeEachRuntime, mountsUnder } from "./tasks-support.js";

/**
 * ctr-ts runs images: the real ctr 1.6 imports (and unpacks) a busybox OCI archive into
 * containerd-ts; `ctr-ts run IMAGE ID` makes the container's snapshot on the image's layer,
 * takes the process from the image config and passes the snapshot's mounts as the task's
 * rootfs; `ctr-ts tasks start` does the same for a container the real ctr created from the
 * image; `--rm` and `containers rm` remove the snapshot with the container.
 */

const hasOverlay = /\toverlay$/m.test(readFileSync("/proc/filesystems", "utf8"));
/** ctr's (and ctr-ts's) default snapshotter where the kernel has it */
const SN = hasOverlay ? "overlayfs" : "native";
const SN_FLAG = hasOverlay ? [] : ["--snapshotter", SN];
const IMAGE = "docker.io/library/busybox-ts-run:latest";
/** imported with --no-unpack: in the content store, no snapshot */
const PACKED = "docker.io/library/busybox-ts-packed:latest";

describeEachRuntime("ctr-ts runs images", "ctr-ts-images", (s) => {
  const ctrTs = (args: string[]): Promise<RunResult> =>
    runProcess(process.execPath, [CTR_TS, "-a", s.daemon.address, "-n", s.ns, ...args]);
  const ok = async (r: Promise<RunResult>, what: string) => {
    const res = await r;
    assert.equal(res.code, 0, `${what}: ${res.stderr}${res.stdout}`);
    return res.stdout;
  };
  /** the runc shim is the default runtime: leave the flag out for it */
  const runtime = s.runtime === "io.containerd.runc.v2" ? [] : ["--runtime", s.runtime];
  const runImage = (id: string, cmd: string[], flags: string[] = []) =>
    ctrTs(["run", "--rm", ...runtime, ...SN_FLAG, ...flags, IMAGE, id, ...cmd]);
  const snapshotKeys = async () =>
    (await ok(s.ctr(["snapshots", ...SN_FLAG, "ls"]), "snapshots ls"))
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[0]);
  const containerIds = async () =>
    (await ok(ctrTs(["containers", "ls", "-q"]), "containers ls")).split("\n").filter(Boolean);
  let layerChainId = "";

  /** after a container went: only the image's layer snapshot, no container, no mount */
  const assertNothingLeft = async () => {
    assert.deepEqual(await snapshotKeys(), [layerChainId]);
    assert.deepEqual(await containerIds(), []);
    assert.deepEqual(mountsUnder(s.dir), []);
  };

  test("the real ctr imports the image, unpacked (and another one not)", async () => {
    const dir = join(s.dir, "image");
    const img = buildImage(dir, ["echo", "sh"], {
      Cmd: ["/bin/sh", "-c", "echo from-cmd $GREETING in $(pwd)"],
      Env: ["PATH=/bin", "GREETING=hello-env"],
      WorkingDir: "/bin",
    });
    layerChainId = `sha256:${sha256(img.layer)}`; // one layer: its chain ID is its diff ID
    await ok(s.ctr(["images", "import", ...SN_FLAG, ociArchive(dir, img, IMAGE)]), "import");
    const packedDir = join(s.dir, "packed");
    const packed = buildImage(packedDir, ["echo"], { Cmd: ["/bin/echo", "packed"] });
    await ok(
      s.ctr(["images", "import", "--no-unpack", ociArchive(packedDir, packed, PACKED)]),
      "import --no-unpack",
    );
    assert.deepEqual(await snapshotKeys(), [layerChainId]);
  });

  test("run --rm IMAGE ID /bin/echo hi prints hi and leaves nothing behind", async () => {
    const r = await runImage("ctsi-hi", ["/bin/echo", "hi"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi\n");
    assert.equal(r.code, 0);
    await assertNothingLeft();
  });

  test("without a command the image's Cmd runs with its Env and WorkingDir", async () => {
    const r = await runImage("ctsi-cmd", []);
    assert.equal(r.stdout, "from-cmd hello-env in /bin\n", r.stderr);
    assert.equal(r.code, 0);
    await assertNothingLeft();
  });

  test("--env replaces an image Env entry; the others stay", async () => {
    const r = await runImage(
      "ctsi-env",
      ["sh", "-c", "echo $GREETING $PATH"],
      ["--env", "GREETING=from-flag"],
    );
    assert.equal(r.stdout, "from-flag /bin\n", r.stderr);
    await assertNothingLeft();
  });

  test("the task's exit status is ctr-ts's; the container is removed all the same", async () => {
    const r = await runImage("ctsi-seven", ["/bin/sh", "-c", "exit 7"]);
    assert.equal(r.code, 7, r.stderr);
    await assertNothingLeft();
  });

  test("ctr-ts tasks start runs a container the real ctr created from the image", async () => {
    const id = "ctsi-ctr-made";
    await ok(
      s.ctr([
        "containers",
        "create",
        "--runtime",
        s.runtime,
        ...SN_FLAG,
        // urfave/cli would take the command's -c for ctr's --config without it
        "--",
        IMAGE,
        id,
        "/bin/sh",
        "-c",
        "echo started > /mark; cat /mark",
      ]),
      "ctr containers create",
    );
    assert.deepEqual((await snapshotKeys()).sort(), [id, layerChainId].sort());
    const r = await ctrTs(["tasks", "start", id]);
    assert.equal(r.stdout, "started\n", r.stderr);
    assert.equal(r.code, 0);
    // the write went to the container's snapshot, not to the image's layer
    const again = await ctrTs(["tasks", "start", id]);
    assert.equal(again.stdout, "started\n", again.stderr);
    await ok(ctrTs(["containers", "rm", id]), "containers rm");
    await assertNothingLeft();
  });

  test("a kept container keeps its snapshot until ctr-ts containers rm", async () => {
    const id = "ctsi-kept";
    const r = await ctrTs(["run", ...runtime, ...SN_FLAG, IMAGE, id, "/bin/echo", "kept"]);
    assert.equal(r.stdout, "kept\n", r.stderr);
    assert.deepEqual((await snapshotKeys()).sort(), [id, layerChainId].sort());
    const info = JSON.parse(await ok(s.ctr(["containers", "info", id]), "info")) as {
      Image: string;
      Snapshotter: string;
      SnapshotKey: string;
      Labels: Record<string, string>;
    };
    assert.equal(info.Image, IMAGE);
    assert.equal(info.Snapshotter, SN);
    assert.equal(info.SnapshotKey, id);
    assert.equal(info.Labels["io.containerd.image.config.stop-signal"], "SIGTERM");
    await ok(ctrTs(["containers", "rm", id]), "containers rm");
    await assertNothingLeft();
  });

  test("the spec's process and root are the real ctr's for the same image", async () => {
    const spec = async (id: string) =>
      (JSON.parse(await ok(s.ctr(["containers", "info", id]), "info")) as { Spec: unknown }).Spec;
    const flags = ["--env", "A=1", "--cwd", "/bin"];
    await ok(
      ctrTs(["run", ...runtime, ...SN_FLAG, ...flags, IMAGE, "ctsi-ours", "/bin/echo"]),
      "run",
    );
    await ok(
      s.ctr(["containers", "create", ...SN_FLAG, ...flags, IMAGE, "ctsi-theirs", "/bin/echo"]),
      "create",
    );
    const [ours, theirs] = [await spec("ctsi-ours"), await spec("ctsi-theirs")] as {
      process: unknown;
      root: unknown;
    }[];
    assert.deepEqual(ours!.process, theirs!.process);
    assert.deepEqual(ours!.root, theirs!.root);
    for (const id of ["ctsi-ours", "ctsi-theirs"]) await ok(ctrTs(["containers", "rm", id]), "rm");
    await assertNothingLeft();
  });

  test("a missing image and an image not unpacked are refused, nothing is created", async () => {
    const missing = await ctrTs([
      "run",
      "--rm",
      ...SN_FLAG,
      "docker.io/library/nope:1",
      "ctsi-x",
      "/bin/true",
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found/i);
    const packed = await ctrTs(["run", "--rm", ...SN_FLAG, PACKED, "ctsi-y"]);
    assert.notEqual(packed.code, 0);
    assert.match(packed.stderr, /not unpacked/);
    await assertNothingLeft();
  });
});
