import { create } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import type { Labels } from "./types.js";

/** Column encodings shared by the tables. */

export const encodeLabels = (labels: Labels): string => JSON.stringify(sortKeys(labels));
export const decodeLabels = (text: string): Labels => JSON.parse(text) as Labels;

export function encodeAnyMap(map: Record<string, Any>): string {
  const out: Record<string, { t: string; v: string }> = {};
  for (const [k, a] of Object.entries(sortKeys(map))) {
    out[k] = { t: a.typeUrl, v: Buffer.from(a.value).toString("base64") };
  }
  return JSON.stringify(out);
}

export function decodeAnyMap(text: string): Record<string, Any> {
  const raw = JSON.parse(text) as Record<string, { t: string; v: string }>;
  const out: Record<string, Any> = {};
  for (const [k, { t, v }] of Object.entries(raw)) out[k] = anyOf(t, Buffer.from(v, "base64"));
  return out;
}

export function anyOf(typeUrl: string, value: Uint8Array): Any {
  return create(AnySchema, { typeUrl, value: new Uint8Array(value) });
}

/** Two nullable columns (type, bytes) back to an optional Any. */
export function optionalAny(typeUrl: string | null, value: Uint8Array | null): Any | undefined {
  return typeUrl === null ? undefined : anyOf(typeUrl, value ?? new Uint8Array());
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
