import type { Container } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import type { ContainerdClient } from "../client/client.js";
import { buildSpec, encodeSpec, SPEC_TYPE_URL, type OciMount } from "../spec/oci.js";
import { prepareContainerSnapshot, type ContainerSnapshot } from "./container-snapshot.js";
import { withLease } from "./lease.js";

export const DEFAULT_RUNTIME = "io.containerd.runc.v2";
export const RUNC_OPTIONS_TYPE_URL = "containerd.runc.v1.Options";

export interface NewContainer {
  id: string;
  rootfs: string;
  args: string[];
  env?: string[];
  cwd?: string;
  labels?: Record<string, string>;
  runtime?: string;
  /** runc-compatible binary the shim should use (containerd.runc.v1.Options.binary_name) */
  runcBinary?: string;
  terminal?: boolean;
  mounts?: OciMount[];
  readonlyRootfs?: boolean;
  /** process user (default root) */
  user?: { uid: number; gid: number };
  /** spec annotations when they differ from the labels (an image's container) */
  annotations?: Record<string, string>;
  /** a snapshot to prepare as the rootfs (then `rootfs` is the bundle-relative "rootfs") */
  snapshot?: ContainerSnapshot;
}

/** Containers/Create with ctr's default spec for a rootfs directory, inside a lease. */
export async function createContainer(
  client: ContainerdClient,
  c: NewContainer,
): Promise<Container> {
  const [{ Containers }, { OptionsSchema }, { create, toBinary }] = await Promise.all([
    import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
    import("@containerd-ts/gen/containerd/runc/v1/options_pb.js"),
    import("@bufbuild/protobuf"),
  ]);
  const spec = buildSpec({
    id: c.id,
    namespace: client.namespace,
    rootfs: c.rootfs,
    args: c.args,
    env: c.env,
    cwd: c.cwd,
    terminal: c.terminal,
    labels: c.annotations ?? c.labels,
    user: c.user,
    mounts: c.mounts,
    readonlyRootfs: c.readonlyRootfs,
  });
  const options = toBinary(
    OptionsSchema,
    create(OptionsSchema, { binaryName: c.runcBinary ?? "" }),
  );
  return withLease(client, async (headers) => {
    if (c.snapshot) await prepareContainerSnapshot(client, c.snapshot, headers);
    const res = await client.service(Containers).create(
      {
        container: {
          id: c.id,
          labels: c.labels ?? {},
          runtime: {
            name: c.runtime ?? DEFAULT_RUNTIME,
            options: { typeUrl: RUNC_OPTIONS_TYPE_URL, value: options },
          },
          spec: { typeUrl: SPEC_TYPE_URL, value: encodeSpec(spec) },
          ...(c.snapshot
            ? {
                snapshotter: c.snapshot.snapshotter,
                snapshotKey: c.snapshot.key,
                image: c.snapshot.image,
              }
            : {}),
        },
      },
      client.call(headers),
    );
    if (!res.container) throw new Error(`daemon returned no container for ${c.id}`);
    return res.container;
  });
}

/** The container's spec decoded from its Any (JSON bytes), or undefined when absent. */
export function decodeSpec(container: Container): unknown {
  if (!container.spec || container.spec.value.length === 0) return undefined;
  return JSON.parse(new TextDecoder().decode(container.spec.value)) as unknown;
}
