import type { ContainerdClient } from "../client/client.js";

/** containerd's images.MediaTypeContainerd1Checkpoint (the CRIU image dir as a tar). */
export const CHECKPOINT_MEDIA_TYPE =
  "application/vnd.containerd.container.criu.checkpoint.criu.tar";

export interface CheckpointDescriptor {
  mediaType: string;
  digest: string;
  size: bigint;
}

interface IndexJson {
  manifests?: Array<{ mediaType?: string; digest?: string; size?: number }>;
}

/**
 * The CRIU tar a restore starts from (what containerd's WithTaskCheckpoint finds): `ref` is a
 * checkpoint image (`ctr tasks checkpoint` prints its name; its index lists the tar) or the
 * digest of the tar itself.
 */
export async function checkpointDescriptor(
  client: ContainerdClient,
  ref: string,
): Promise<CheckpointDescriptor> {
  const [{ Content }, { Images }] = await Promise.all([
    import("@containerd-ts/gen/containerd/services/content/v1/content_pb.js"),
    import("@containerd-ts/gen/containerd/services/images/v1/images_pb.js"),
  ]);
  const content = client.service(Content);
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) {
    const { info } = await content.info({ digest: ref }, client.call());
    return { mediaType: CHECKPOINT_MEDIA_TYPE, digest: ref, size: info?.size ?? 0n };
  }
  const { image } = await client.service(Images).get({ name: ref }, client.call());
  const target = image?.target;
  if (!target) throw new Error(`image ${ref} has no target`);
  if (target.mediaType === CHECKPOINT_MEDIA_TYPE) {
    return { mediaType: target.mediaType, digest: target.digest, size: target.size };
  }
  const parts: Uint8Array[] = [];
  for await (const r of content.read({ digest: target.digest }, client.call())) parts.push(r.data);
  const index = JSON.parse(Buffer.concat(parts).toString("utf8")) as IndexJson;
  const tar = index.manifests?.find((m) => m.mediaType === CHECKPOINT_MEDIA_TYPE);
  if (!tar?.digest) throw new Error(`checkpoint not found in index ${target.digest}`);
  return { mediaType: CHECKPOINT_MEDIA_TYPE, digest: tar.digest, size: BigInt(tar.size ?? 0) };
}
