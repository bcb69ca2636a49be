import type { ContainerdClient } from "../client/client.js";
import { writeContent, type ContentDescriptor } from "./content-write.js";
import { createDiff } from "./snapshot-diff.js";

export const OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
/** The label containerd's client puts on every checkpoint image. */
export const CHECKPOINT_IMAGE_LABEL = "containerd.io/checkpoint";

interface IndexDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };
/** The platform containerd's client stamps on the descriptors it made itself. */
const hostPlatform = () => ({ architecture: GO_ARCH[process.arch] ?? process.arch, os: "linux" });

/** Go's map encoding: keys sorted; absent when empty (omitempty). */
function sortedOrNone(m: Record<string, string> | undefined): Record<string, string> | undefined {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? Object.fromEntries(keys.map((k) => [k, m![k]!])) : undefined;
}

/** Field order and escaping of Go's encoding/json (Encoder: trailing newline, HTML-safe). */
export function indexJson(manifests: IndexDescriptor[], annotations: Record<string, string>) {
  const index = {
    schemaVersion: 2,
    manifests: manifests.map((m) => ({
      mediaType: m.mediaType || undefined,
      digest: m.digest,
      size: m.size,
      annotations: sortedOrNone(m.annotations),
      platform: m.platform,
    })),
    annotations: sortedOrNone(annotations),
  };
  const text = JSON.stringify(index).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return Buffer.from(`${text}\n`);
}

/** containerd's default checkpoint name: containerd.io/checkpoint/ID:MM-DD-YYYY-HH:MM:SS. */
export function checkpointImageName(id: string, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const date = `${two(now.getMonth() + 1)}-${two(now.getDate())}-${now.getFullYear()}`;
  const time = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  return `containerd.io/checkpoint/${id}:${date}-${time}`;
}

export interface CheckpointedContainer {
  id: string;
  image: string;
  snapshotter: string;
  snapshotKey: string;
}

/**
 * What containerd 1.6's task.Checkpoint makes of the descriptors Tasks/Checkpoint answered:
 * an OCI index of them (host platform), plus the container's image target (annotated
 * `image.name`) and its rw layer when it has a snapshot; the index is stored with a
 * `containerd.io/gc.ref.content.N` label per manifest and named by a `containerd.io/checkpoint`
 * image. Runs under the caller's lease (`headers`) so nothing is collected half-way.
 */
export async function createCheckpointImage(
  client: ContainerdClient,
  container: CheckpointedContainer,
  checkpoint: Array<ContentDescriptor & { annotations?: Record<string, string> }>,
  headers: Record<string, string>,
): Promise<string> {
  const { Images } = await import("@containerd-ts/gen/containerd/services/images/v1/images_pb.js");
  const images = client.service(Images);
  const manifests: IndexDescriptor[] = checkpoint.map((d) => ({
    ...d,
    size: Number(d.size),
    platform: hostPlatform(),
  }));
  const annotations: Record<string, string> = {};
  if (container.image) {
    const { image } = await images.get({ name: container.image }, client.call(headers));
    const t = image?.target;
    if (!t) throw new Error(`image ${container.image} has no target`);
    manifests.push({ ...t, size: Number(t.size) });
    annotations["image.name"] = container.image;
  }
  if (container.snapshotKey) {
    const ref = `checkpoint-rw-${container.snapshotKey}`;
    const rw = await createDiff(client, container.snapshotter, container.snapshotKey, ref, headers);
    manifests.push({ ...rw, size: Number(rw.size), platform: hostPlatform() });
  }
  const labels = Object.fromEntries(
    manifests.map((m, i) => [`containerd.io/gc.ref.content.${i}`, m.digest]),
  );
  const data = indexJson(manifests, annotations);
  const index = await writeContent(
    client,
    { ref: container.id, mediaType: OCI_INDEX_MEDIA_TYPE, data, labels },
    headers,
  );
  const name = checkpointImageName(container.id);
  await images.create(
    { image: { name, target: index, labels: { [CHECKPOINT_IMAGE_LABEL]: "true" } } },
    client.call(headers),
  );
  return name;
}
