import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Image archives made from /bin/busybox with the system tar, for `ctr images import`: the
 * image's blobs, an OCI image layout archive and a `docker save` archive of them.
 */

export const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** A busybox image as blobs: layer tar, config, manifest (OCI media types). */
export interface BusyboxImage {
  layer: Buffer;
  config: Buffer;
  manifest: Buffer;
  digests: { layer: string; config: string; manifest: string };
}

/**
 * Builds the image's blobs under `dir`: one layer with bin/busybox (and bin/<applet>
 * symlinks to it for each applet named), and `imageConfig` as the image config's process defaults.
 */
export function buildImage(
  dir: string,
  applets: readonly string[] = [],
  imageConfig: Record<string, unknown> = { Cmd: ["/bin/busybox", "sh"] },
): BusyboxImage {
  const rootfs = join(dir, "rootfs");
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  for (const a of applets) symlinkSync("busybox", join(rootfs, "bin", a));
  const layerFile = join(dir, "layer.tar");
  const tar = spawnSync("tar", ["-C", rootfs, "--owner=0", "--group=0", "-cf", layerFile, "bin"]);
  assert.equal(tar.status, 0, tar.stderr.toString());
  const layer = readFileSync(layerFile);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: imageConfig,
      rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layer)}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: `sha256:${sha256(config)}`,
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: `sha256:${sha256(layer)}`,
          size: layer.length,
        },
      ],
    }),
  );
  const digests = {
    layer: `sha256:${sha256(layer)}`,
    config: `sha256:${sha256(config)}`,
    manifest: `sha256:${sha256(manifest)}`,
  };
  return { layer, config, manifest, digests };
}

/** Tars a directory's contents into `out`. */
function tarDir(dir: string, out: string): void {
  const r = spawnSync("tar", ["-C", dir, "--owner=0", "--group=0", "-cf", out, "."]);
  assert.equal(r.status, 0, r.stderr.toString());
}

/** An OCI image layout archive naming the image `name`. */
export function ociArchive(dir: string, img: BusyboxImage, name: string): string {
  const layout = join(dir, "oci");
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  for (const b of [img.layer, img.config, img.manifest]) writeFileSync(join(blobs, sha256(b)), b);
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: img.digests.manifest,
          size: img.manifest.length,
          annotations: {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name.slice(name.lastIndexOf(":") + 1),
          },
          platform: { architecture: "amd64", os: "linux" },
        },
      ],
    }),
  );
  const out = join(dir, "oci.tar");
  tarDir(layout, out);
  return out;
}

/** A `docker save` archive (manifest.json with RepoTags) of the same layer and config. */
export function dockerArchive(dir: string, img: BusyboxImage, tag: string): string {
  const root = join(dir, "docker");
  const layerDir = join(root, sha256(img.layer));
  mkdirSync(layerDir, { recursive: true });
  writeFileSync(join(layerDir, "layer.tar"), img.layer);
  const configName = `${sha256(img.config)}.json`;
  writeFileSync(join(root, configName), img.config);
  writeFileSync(
    join(root, "manifest.json"),
    JSON.stringify([
      { Config: configName, RepoTags: [tag], Layers: [`${sha256(img.layer)}/layer.tar`] },
    ]),
  );
  const out = join(dir, "docker.tar");
  tarDir(root, out);
  return out;
}
