import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ContainerdClient } from "../client/client.js";

export interface ContentDescriptor {
  mediaType: string;
  digest: string;
  size: bigint;
}

/**
 * Writes one small blob through Content/Write, like containerd's client writeContent: a STAT
 * opens the ingest `ref`, one COMMIT carries the bytes, the size and labels. A blob the store
 * has already counts as written (containerd ignores AlreadyExists on commit). `headers` carry
 * the lease that keeps the ingest and the blob until something refers to it.
 */
export async function writeContent(
  client: ContainerdClient,
  blob: { ref: string; mediaType: string; data: Uint8Array; labels?: Record<string, string> },
  headers?: Record<string, string>,
): Promise<ContentDescriptor> {
  const { Content, WriteAction } = await import(
    "@containerd-ts/gen/containerd/services/content/v1/content_pb.js"
  );
  const size = BigInt(blob.data.length);
  const digest = `sha256:${createHash("sha256").update(blob.data).digest("hex")}`;
  async function* requests() {
    yield { action: WriteAction.STAT, ref: blob.ref };
    yield {
      action: WriteAction.COMMIT,
      ref: blob.ref,
      total: size,
      offset: 0n,
      data: blob.data,
      expected: digest,
      labels: blob.labels ?? {},
    };
  }
  try {
    let committed = "";
    for await (const res of client.service(Content).write(requests(), client.call(headers))) {
      if (res.action === WriteAction.COMMIT) committed = res.digest;
    }
    if (committed && committed !== digest) {
      throw new Error(`content ${blob.ref}: committed ${committed}, expected ${digest}`);
    }
  } catch (err) {
    if (!(err instanceof ConnectError && err.code === Code.AlreadyExists)) throw err;
  }
  return { mediaType: blob.mediaType, digest, size };
}
