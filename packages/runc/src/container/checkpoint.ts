import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import {
  errFailedPrecondition,
  errInvalidArgument,
  errNotImplemented,
} from "@containerd-ts/errdefs/errors.js";
import {
  checkCommonOptions,
  DESCRIPTORS_FILE,
  DUMP_LOG,
  dumpArgs,
  externalFiles,
  externalMounts,
  initDescriptors,
  maskedFiles,
  runCriu,
  type DumpOptions,
} from "./criu.js";
import { destroy, loadContainer } from "./ops.js";

export interface CheckpointRequest extends DumpOptions {
  root: string;
  id: string | undefined;
  /** the criu binary (global --criu) */
  criu: string;
  warn: (msg: string) => void;
}

/**
 * runc's image and parent paths: the image path defaults to ./checkpoint and is created; the
 * parent path must be relative to it and name a directory.
 */
function prepareImagePaths(o: CheckpointRequest): { imagePath: string; parentPath?: string } {
  const imagePath = resolve(o.imagePath || join(process.cwd(), "checkpoint"));
  mkdirSync(imagePath, { recursive: true, mode: 0o700 });
  if (!o.parentPath) return { imagePath };
  if (isAbsolute(o.parentPath)) throw errInvalidArgument("--parent-path must be relative");
  let dir = false;
  try {
    dir = statSync(join(imagePath, o.parentPath)).isDirectory();
  } catch {
    // reported below
  }
  if (!dir) throw errInvalidArgument(`invalid --parent-path: ${join(imagePath, o.parentPath)}`);
  return { imagePath, parentPath: o.parentPath };
}

/**
 * `runc-ts checkpoint`: dumps the container's process tree with CRIU into the image path,
 * beside runc's descriptors.json. Unless --leave-running or --pre-dump, CRIU kills the tree
 * and the container is destroyed afterwards (cgroup and state dir), as runc does.
 */
export async function checkpointContainer(o: CheckpointRequest): Promise<void> {
  const c = await loadContainer(o.root, o.id);
  const status = c.status();
  if (status === "created" || status === "stopped")
    throw errFailedPrecondition(`Container cannot be checkpointed in ${status} state`);
  const config = c.state.config;
  if (config.process.terminal)
    throw errNotImplemented(
      "checkpoint of a container with a terminal is not supported by runc-ts",
    );
  checkCommonOptions(o);
  const { imagePath, parentPath } = prepareImagePaths(o);
  const workPath = o.workPath ? resolve(o.workPath) : undefined;
  if (workPath) mkdirSync(workPath, { recursive: true, mode: 0o700 });
  const pid = c.state.initPid;
  const opts: DumpOptions = { ...o, imagePath, parentPath, workPath };
  const paths = c.state.cgroupPaths;
  const descriptors = initDescriptors(pid);
  const args = dumpArgs(pid, config.rootfs, opts, {
    mounts: externalMounts(
      config,
      { paths, version: c.state.cgroupVersion },
      "dump",
      maskedFiles(config, pid),
    ),
    freezeCgroup: c.state.cgroupVersion === 2 ? paths[""] : paths.freezer,
    files: externalFiles(descriptors),
  });
  if (!o.preDump)
    writeFileSync(join(imagePath, DESCRIPTORS_FILE), JSON.stringify(descriptors), { mode: 0o600 });
  const log = join(workPath ?? imagePath, o.preDump ? "pre-dump.log" : DUMP_LOG);
  await runCriu(o.criu, args, { type: o.preDump ? "PRE_DUMP" : "DUMP", logPath: log });
  if (!o.leaveRunning && !o.preDump) await destroy(o.root, c, o.warn);
}
