/** `k=v` arguments into a label map; `k` alone and `k=` mean the empty value. */
export function parseKeyValues(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq === 0) throw new Error(`invalid label "${item}": empty key`);
    if (eq < 0) out[item] = "";
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/**
 * The update for `label` commands: the labels to set, and the field-mask paths
 * (`labels.<key>`) that make the daemon set or (for empty values) remove each one.
 */
export function labelUpdate(items: readonly string[]): {
  labels: Record<string, string>;
  paths: string[];
} {
  const all = parseKeyValues(items);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (v !== "") labels[k] = v;
  return { labels, paths: Object.keys(all).map((k) => `labels.${k}`) };
}
