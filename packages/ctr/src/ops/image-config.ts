import { createHash } from "node:crypto";
import type { ContainerdClient } from "../client/client.js";
import type { ImageConfig } from "../spec/image-config.js";

/** What a container made from an image needs from its records in the content store. */
export interface ResolvedImage {
  name: string;
  labels: Record<string, string>;
  config: ImageConfig;
  /** identity.ChainID of the layers: the committed snapshot an unpacked image ends with */
  chainId: string;
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string };
}

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

/** GOARCH for Node's process.arch, where they differ. */
const GOARCH: Record<string, string> = { x64: "amd64", ia32: "386" };

/** The chain ID of a layer stack: the first diff ID, then sha256("<chain> <diffID>") onwards. */
export function chainIdOf(diffIds: readonly string[]): string {
  if (diffIds.length === 0) throw new Error("image has no layers");
  return diffIds
    .slice(1)
    .reduce(
      (chain, diff) => `sha256:${createHash("sha256").update(`${chain} ${diff}`).digest("hex")}`,
      diffIds[0],
    );
}

/**
 * Images/Get `name`, then its manifest (the host platform's, from an index) and its config,
 * as ctr's image.Config and image.RootFS read them.
 */
export async function resolveImage(client: ContainerdClient, name: string): Promise<ResolvedImage> {
  const [{ Images }, { Content }] = await Promise.all([
    import("@containerd-ts/gen/containerd/services/images/v1/images_pb.js"),
    import("@containerd-ts/gen/containerd/services/content/v1/content_pb.js"),
  ]);
  const content = client.service(Content);
  const readJson = async <T>(digest: string): Promise<T> => {
    const parts: Uint8Array[] = [];
    for await (const r of content.read({ digest }, client.call())) parts.push(r.data);
    return JSON.parse(Buffer.concat(parts).toString("utf8")) as T;
  };
  const { image } = await client.service(Images).get({ name }, client.call());
  if (!image?.target) throw new Error(`image ${name} has no target`);
  let target: Descriptor = image.target;
  if (INDEX_TYPES.has(target.mediaType ?? "")) {
    const index = await readJson<{ manifests?: Descriptor[] }>(target.digest ?? "");
    const arch = GOARCH[process.arch] ?? process.arch;
    const manifests = index.manifests ?? [];
    const match =
      manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === arch) ??
      manifests.find((m) => !m.platform);
    if (!match?.digest) throw new Error(`image ${name}: no manifest for linux/${arch}`);
    target = match;
  }
  const manifest = await readJson<{ config?: Descriptor }>(target.digest ?? "");
  if (!manifest.config?.digest) throw new Error(`image ${name}: manifest has no config`);
  const config = await readJson<{ config?: ImageConfig; rootfs?: { diff_ids?: string[] } }>(
    manifest.config.digest,
  );
  return {
    name,
    labels: image.labels,
    config: config.config ?? {},
    chainId: chainIdOf(config.rootfs?.diff_ids ?? []),
  };
}
