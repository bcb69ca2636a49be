import type { ContainerdClient } from "../client/client.js";
import { parseKeyValues } from "../labels.js";
import { parseMountFlag } from "../spec/oci.js";
import { imageContainerLabels, processFromImageConfig } from "../spec/image-config.js";
import type { ContainerFlagValues } from "./container-flags.js";
import type { NewContainer } from "./containers.js";
import { resolveImage } from "./image-config.js";

/**
 * The container `ctr run IMAGE ID` creates: a snapshot `ID` prepared on the image's layers
 * in `snapshotter`, the process from the image config (a given command replaces its
 * Entrypoint and Cmd), the image's labels, the rootfs flags' other options.
 */
export async function imageContainerRecord(
  client: ContainerdClient,
  image: string,
  id: string,
  f: Omit<ContainerFlagValues, "rootfs"> & { snapshotter: string },
  command: string[],
): Promise<NewContainer> {
  const img = await resolveImage(client, image);
  const proc = processFromImageConfig(img.config, command, f.env ?? []);
  const flagLabels = parseKeyValues(f.label ?? []);
  return {
    id,
    // the shim mounts the task's rootfs there, inside the bundle
    rootfs: "rootfs",
    args: proc.args,
    env: proc.env,
    cwd: f.cwd ?? proc.cwd,
    user: proc.user,
    labels: imageContainerLabels(img.config, img.labels, flagLabels),
    annotations: flagLabels,
    runtime: f.runtime,
    runcBinary: f["runc-binary"],
    mounts: (f.mount ?? []).map(parseMountFlag),
    readonlyRootfs: f["read-only"],
    terminal: f.tty,
    snapshot: { snapshotter: f.snapshotter, key: id, parent: img.chainId, image },
  };
}
