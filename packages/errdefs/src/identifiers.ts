import { errInvalidArgument } from "./errors.js";

/** containerd's identifier rule: 1–76 chars of alnum runs joined by single '.', '_' or '-'. */
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
export const MAX_IDENTIFIER_LENGTH = 76;
/** containerd caps a label's key plus value at 4 KiB. */
export const MAX_LABEL_SIZE = 4096;

/** Throws InvalidArgument naming `field` unless `value` is a valid identifier. */
export function validateIdentifier(value: string, field = "identifier"): string {
  if (value.length === 0) throw errInvalidArgument(`${field} must not be empty`);
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw errInvalidArgument(
      `${field} "${value.slice(0, 20)}…" greater than maximum length (${MAX_IDENTIFIER_LENGTH} characters)`,
    );
  }
  if (!IDENTIFIER.test(value)) {
    throw errInvalidArgument(`${field} "${value}" must match ${IDENTIFIER.source}`);
  }
  return value;
}

export function validateLabel(key: string, value: string, field = "labels"): void {
  if (key.length === 0) throw errInvalidArgument(`${field}: label key must not be empty`);
  const size = Buffer.byteLength(key) + Buffer.byteLength(value);
  if (size > MAX_LABEL_SIZE) {
    throw errInvalidArgument(
      `${field}: label key and value length (${size} bytes) greater than maximum size (${MAX_LABEL_SIZE} bytes)`,
    );
  }
}

export function validateLabels(labels: Record<string, string> | undefined, field = "labels"): void {
  for (const [k, v] of Object.entries(labels ?? {})) validateLabel(k, v, field);
}
