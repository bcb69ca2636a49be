import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { ContainerdError, ErrorKind, errNotImplemented } from "@containerd-ts/errdefs";
import type { Syscalls } from "@containerd-ts/sys";
import type { ContentService } from "../content/domain.js";
import type { Labels } from "../../store/index.js";
import type { MountSpec } from "../snapshots/storage.js";
import { applyLayer } from "./apply.js";
import { layerTar } from "./changes.js";
import { withMounts } from "./mounts.js";
import { readTar } from "./tar.js";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export const MEDIA_TYPE_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const MEDIA_TYPE_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
/** The content label naming a compressed layer's uncompressed digest. */
export const UNCOMPRESSED_LABEL = "containerd.io/uncompressed";

const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
const DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar";
const OCI_NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar";

/**
 * containerd's DiffCompression: "gzip", "" (plain tar) or "detect" (Docker's plain layer
 * types, which are often gzip anyway); zstd and unknown types are not handled.
 */
export function layerCompression(mediaType: string): "gzip" | "" | "detect" {
  const [base = "", ...ext] = mediaType.split("+");
  switch (base) {
    case DOCKER_LAYER:
    case DOCKER_FOREIGN:
      return ext.length > 0 ? "" : "detect";
    case `${DOCKER_LAYER}.gzip`:
    case `${DOCKER_FOREIGN}.gzip`:
      return ext.length > 0 ? "" : "gzip";
    case MEDIA_TYPE_LAYER:
    case OCI_NONDISTRIBUTABLE: {
      const last = ext[ext.length - 1];
      if (last === "gzip") return "gzip";
      if (last === "zstd") break;
      return "";
    }
  }
  throw new ContainerdError(
    ErrorKind.Unknown,
    `failed to get stream processor for ${mediaType}: no processor for media-type`,
  );
}

/** Gunzips when asked to, or when the stream starts with gzip's magic under "detect". */
async function* decompress(
  chunks: AsyncIterable<Uint8Array>,
  mode: "gzip" | "" | "detect",
): AsyncGenerator<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? new Uint8Array() : first.value;
  const rest = (async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  const gzip = mode === "gzip" || (mode === "detect" && head[0] === 0x1f && head[1] === 0x8b);
  if (!gzip) return yield* rest;
  yield* Readable.from(rest).pipe(createGunzip()) as AsyncIterable<Buffer>;
}

/** Passes chunks through while hashing and counting them. */
async function* measured(
  chunks: AsyncIterable<Uint8Array>,
  into: { hash: ReturnType<typeof createHash>; size: number },
): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    into.hash.update(c);
    into.size += c.length;
    yield c;
  }
}

/**
 * containerd's walking differ over the content store: Apply unpacks a layer blob onto
 * mounts, Diff writes the changes between two mounts as a layer blob.
 */
export class DiffService {
  constructor(
    private readonly content: ContentService,
    private readonly sys: () => Promise<Pick<Syscalls, "mknod">>,
  ) {}

  /** Returns the uncompressed layer's descriptor (its digest is the diff ID). */
  async apply(ns: string, layer: Descriptor, mounts: readonly MountSpec[]): Promise<Descriptor> {
    const mode = layerCompression(layer.mediaType);
    const range = this.content.readRange(ns, layer.digest, 0, 0);
    const tar = { hash: createHash("sha256"), size: 0 };
    const sys = await this.sys();
    await withMounts(mounts, (dir) =>
      applyLayer(dir, readTar(measured(decompress(range.chunks, mode), tar)), sys),
    );
    return {
      mediaType: MEDIA_TYPE_LAYER,
      digest: `sha256:${tar.hash.digest("hex")}`,
      size: tar.size,
    };
  }

  /**
   * Writes the changes from `lower` to `upper` to the content store as a layer; under
   * `lease` (the call's containerd-lease) the blob outlives garbage collection until the
   * client references it, as containerd's differ writes under the context's lease.
   */
  async diff(
    ns: string,
    lower: readonly MountSpec[],
    upper: readonly MountSpec[],
    opts: {
      mediaType?: string;
      ref?: string;
      labels?: Labels;
      sourceDateEpoch?: number;
      lease?: string;
    } = {},
  ): Promise<Descriptor> {
    const mediaType = opts.mediaType || MEDIA_TYPE_LAYER_GZIP;
    if (mediaType !== MEDIA_TYPE_LAYER && mediaType !== MEDIA_TYPE_LAYER_GZIP) {
      throw errNotImplemented(`unsupported diff media type: ${mediaType}: not implemented`);
    }
    const ref = opts.ref || `diff-${Date.now()}-${randomBytes(8).toString("hex")}`;
    const gzip = mediaType === MEDIA_TYPE_LAYER_GZIP;
    const labels: Labels = { ...opts.labels };
    let uncompressed = "";
    const info = await withMounts(lower, (lowerDir) =>
      withMounts(upper, async (upperDir) => {
        const tar = { hash: createHash("sha256"), size: 0 };
        const stream = (async function* () {
          yield* measured(layerTar(lowerDir, upperDir, opts), tar);
          uncompressed = `sha256:${tar.hash.digest("hex")}`;
          // putBlob commits with these labels once every byte is written
          if (gzip) labels[UNCOMPRESSED_LABEL] = uncompressed;
        })();
        const data = gzip
          ? (Readable.from(stream).pipe(createGzip()) as AsyncIterable<Buffer>)
          : stream;
        const written = await this.content.putBlob(ns, ref, data, { labels, lease: opts.lease });
        if (!gzip || written.labels[UNCOMPRESSED_LABEL] === uncompressed) return written;
        // the blob was there already without the label: containerd adds it
        return this.content.update(
          ns,
          { digest: written.digest, labels: { [UNCOMPRESSED_LABEL]: uncompressed } },
          [`labels.${UNCOMPRESSED_LABEL}`],
        );
      }),
    );
    return { mediaType, digest: info.digest, size: info.size };
  }
}
