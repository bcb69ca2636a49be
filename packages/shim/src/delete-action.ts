import { create, toBinary } from "@bufbuild/protobuf";
import { DeleteResponseSchema } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { dirname, join } from "node:path";
import type { ShimFlags } from "./flags.js";
import type { Logger } from "./log.js";
import { unmountAll } from "./mounts.js";
import { readBundleOptions } from "./options.js";
import { initPidFile, readPidFile } from "./paths.js";
import { runtimeConfig, type RuntimeFactory } from "./runtime.js";
import type { ShimSys } from "./sys.js";
import { toTimestamp } from "./time.js";
import { withDeadline } from "./deadline.js";

/**
 * `delete`: cleans up after a shim that is gone — `runtime delete --force`, rootfs unmounted —
 * and returns the raw DeleteResponse {init pid, 137, now} to print on stdout.
 */
export async function deleteAction(
  flags: ShimFlags,
  sys: ShimSys,
  factory: RuntimeFactory,
  log: Logger,
): Promise<Uint8Array> {
  // the bundle of `id` beside the working directory, as the runc shim finds it
  const bundle = join(dirname(flags.bundle || process.cwd()), flags.id);
  const opts = readBundleOptions(bundle);
  try {
    const runtime = await factory(runtimeConfig(bundle, flags.namespace, opts));
    await withDeadline(runtime.delete(flags.id, { force: true }), 30_000, "runtime delete");
  } catch (e) {
    log.warn("failed to remove runc container", { error: (e as Error).message });
  }
  try {
    unmountAll(sys, join(bundle, "rootfs"));
  } catch (e) {
    log.warn("failed to cleanup rootfs mount", { error: (e as Error).message });
  }
  let pid = 0;
  try {
    pid = readPidFile(initPidFile(bundle));
  } catch (e) {
    log.warn("failed to read init pid file", { error: (e as Error).message });
  }
  return toBinary(
    DeleteResponseSchema,
    create(DeleteResponseSchema, { pid, exitStatus: 128 + 9, exitedAt: toTimestamp(new Date()) }),
  );
}
