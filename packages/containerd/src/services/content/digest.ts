import { createHash } from "node:crypto";
import { errInvalidArgument } from "@containerd-ts/errdefs";

/**
 * Content digests as go-digest spells and checks them: `<algorithm>:<hex>`. Only sha256
 * blobs are ever written here (containerd's canonical algorithm); sha384/sha512 digests
 * validate, so lookups of them answer NotFound instead of InvalidArgument, as containerd does.
 */
const HEX_LENGTH = new Map([
  ["sha256", 64],
  ["sha384", 96],
  ["sha512", 128],
]);
const ALGORITHM_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
const ENCODED_GRAMMAR = /^[a-zA-Z0-9=_-]+$/;

/** Why `value` is not a usable digest (go-digest's wording), or undefined when it is one. */
export function digestError(value: string): string | undefined {
  const colon = value.indexOf(":");
  if (colon < 1 || colon === value.length - 1) return "invalid checksum digest format";
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  const wanted = HEX_LENGTH.get(algorithm);
  if (wanted === undefined) {
    const wellFormed = ALGORITHM_GRAMMAR.test(algorithm) && ENCODED_GRAMMAR.test(encoded);
    return wellFormed ? "unsupported digest algorithm" : "invalid checksum digest format";
  }
  if (encoded.length !== wanted) return "invalid checksum digest length";
  if (!/^[0-9a-f]*$/.test(encoded)) return "invalid checksum digest format";
  return undefined;
}

/** Throws InvalidArgument with the message containerd's content service uses. */
export function requireDigest(value: string): string {
  if (digestError(value) !== undefined) {
    throw errInvalidArgument(`${JSON.stringify(value)} failed validation`);
  }
  return value;
}

export const sha256Digest = (data: string | Uint8Array): string =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Splits a valid digest into its path parts under blobs/. */
export function digestParts(digest: string): { algorithm: string; hex: string } {
  const colon = digest.indexOf(":");
  return { algorithm: digest.slice(0, colon), hex: digest.slice(colon + 1) };
}
