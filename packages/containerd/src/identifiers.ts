import { errInvalidArgument, MAX_IDENTIFIER_LENGTH, MAX_LABEL_SIZE } from "@containerd-ts/errdefs";

/**
 * Identifier and label checks with containerd's own wording, so that a client sees the
 * same message from us as from containerd (`ctr` prints it verbatim). The wire message keeps
 * containerd's `: invalid argument` suffix; `context` is what containerd prefixes at the
 * call site (e.g. "namespace validation: ").
 */

/** containerd's identifiers pattern, spelled as Go prints its compiled regexp. */
const PATTERN = "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$";
const IDENTIFIER = new RegExp(PATTERN);
const SUFFIX = ": invalid argument";

export const isIdentifier = (value: string): boolean =>
  value.length > 0 && value.length <= MAX_IDENTIFIER_LENGTH && IDENTIFIER.test(value);

export function checkIdentifier(value: string, context = ""): string {
  if (value.length === 0) {
    throw errInvalidArgument(`${context}identifier must not be empty${SUFFIX}`);
  }
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw errInvalidArgument(
      `${context}identifier ${JSON.stringify(value)} greater than maximum length (${MAX_IDENTIFIER_LENGTH} characters)${SUFFIX}`,
    );
  }
  if (!IDENTIFIER.test(value)) {
    throw errInvalidArgument(
      `${context}identifier ${JSON.stringify(value)} must match ${PATTERN}${SUFFIX}`,
    );
  }
  return value;
}

export function checkLabels(labels: Record<string, string> | undefined, context = ""): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k === "") throw errInvalidArgument(`${context}label key must not be empty${SUFFIX}`);
    if (Buffer.byteLength(k) + Buffer.byteLength(v) > MAX_LABEL_SIZE) {
      throw errInvalidArgument(
        `${context}label key and value greater than maximum size (${MAX_LABEL_SIZE} bytes), key: ${k}${SUFFIX}`,
      );
    }
  }
}
