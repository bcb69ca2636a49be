import type { DescMessage } from "@bufbuild/protobuf";
import type { Adaptor } from "./filter.js";

/** containerd's checkMap: the rest of the path, joined by '.', is one map key. */
export function mapField(
  rest: readonly string[],
  map: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (!map) return undefined;
  const key = rest.join(".");
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

/** A string field is present when it is not empty (as containerd's adaptors do). */
export const nonEmpty = (s: string | undefined): string | undefined =>
  s === undefined || s === "" ? undefined : s;

/**
 * Adapts any protobuf-es message for filtering: a path segment names a field by its
 * proto name (or JSON/local name); maps take the rest of the path as key; nested
 * messages recurse. Used for `event.<field>` on decoded event payloads.
 */
export function messageAdaptor(desc: DescMessage, message: object): Adaptor {
  return (path) => messageField(desc, message as Record<string, unknown>, path);
}

function messageField(
  desc: DescMessage,
  message: Record<string, unknown>,
  path: readonly string[],
): string | undefined {
  if (path.length === 0) return undefined;
  const [head, ...rest] = path;
  const field = desc.fields.find(
    (f) => f.name === head || f.jsonName === head || f.localName === head,
  );
  if (!field) return undefined;
  const value = message[field.localName];
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
      if (rest.length > 0 || value === undefined) return undefined;
      return nonEmpty(String(value));
    case "map":
      return mapField(rest, value as Record<string, string>);
    case "message":
      if (value === undefined || value === null) return undefined;
      return messageField(field.message, value as Record<string, unknown>, rest);
    default:
      return undefined;
  }
}
