import { create } from "@bufbuild/protobuf";
import { KeyValueSchema, type KeyValue } from "@containerd-ts/gen/ttrpc/request_pb.js";

/** Metadata as callers hand it in: one value or several per key. */
export type MetadataInit = Record<string, string | string[]>;

/**
 * Request metadata → lower-cased key → values in arrival order (repeated keys accumulate;
 * Go's ttrpc MD looks keys up lower-cased).
 */
export function metadataFromWire(pairs: readonly KeyValue[]): Map<string, string[]> {
  const md = new Map<string, string[]>();
  for (const pair of pairs) {
    const key = pair.key.toLowerCase();
    const value = pair.value;
    const list = md.get(key);
    if (list) list.push(value);
    else md.set(key, [value]);
  }
  return md;
}

/** Merges metadata sets (later sets replace a key's values) into wire pairs; keys lower-cased as Go's MD.Set does. */
export function metadataToWire(...sets: (MetadataInit | undefined)[]): KeyValue[] {
  const merged = new Map<string, string[]>();
  for (const set of sets) {
    for (const [key, value] of Object.entries(set ?? {})) {
      merged.set(key.toLowerCase(), Array.isArray(value) ? value : [value]);
    }
  }
  const out: KeyValue[] = [];
  for (const [key, values] of merged) {
    for (const value of values) out.push(create(KeyValueSchema, { key, value }));
  }
  return out;
}
