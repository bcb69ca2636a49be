import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { rfc3339Nano, type TimestampLike } from "./time.js";

/**
 * A protobuf message as ctr prints it (Go encoding/json of the gogo structs): proto field
 * names, zero values left out, Timestamps in RFC 3339, Any as `{type_url, value}`,
 * 64-bit integers as numbers.
 */
export function toGoJson(desc: DescMessage, msg: object): Record<string, unknown> {
  const src = msg as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of desc.fields) {
    const value = fieldValue(field, src);
    const json = value === undefined ? undefined : fieldToJson(field, value);
    if (json !== undefined) out[field.name] = json;
  }
  return out;
}

function fieldValue(field: DescField, src: Record<string, unknown>): unknown {
  if (!field.oneof) return src[field.localName];
  const oneof = src[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return oneof?.case === field.localName ? oneof.value : undefined;
}

function fieldToJson(field: DescField, value: unknown): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalarToJson(value);
    case "enum":
      return value === 0 ? undefined : value;
    case "message":
      return messageToJson(field.message, value as object);
    case "list": {
      const items = value as unknown[];
      if (items.length === 0) return undefined;
      return field.listKind === "message"
        ? items.map((m) => messageToJson(field.message, m as object))
        : items.map((v) => scalarToJson(v, true));
    }
    case "map": {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        out[k] =
          field.mapKind === "message"
            ? messageToJson(field.message, v as object)
            : scalarToJson(v, true);
      }
      return out;
    }
  }
}

function scalarToJson(value: unknown, keepZero = false): unknown {
  if (typeof value === "bigint") return value === 0n && !keepZero ? undefined : Number(value);
  if (value instanceof Uint8Array)
    return value.length === 0 && !keepZero ? undefined : Buffer.from(value).toString("base64");
  if (!keepZero && (value === 0 || value === "" || value === false)) return undefined;
  return value;
}

function messageToJson(desc: DescMessage, value: object): unknown {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return rfc3339Nano(value as TimestampLike);
    case "google.protobuf.Any": {
      const any = value as { typeUrl: string; value: Uint8Array };
      const out: Record<string, unknown> = { type_url: any.typeUrl };
      if (any.value.length > 0) out.value = Buffer.from(any.value).toString("base64");
      return out;
    }
    default:
      return toGoJson(desc, value);
  }
}
