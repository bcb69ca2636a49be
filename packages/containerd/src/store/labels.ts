import type { Labels } from "./types.js";

/**
 * Applies `labels` / `labels.<key>` field-mask paths: `labels` replaces the whole map,
 * `labels.<key>` copies one key from `incoming` (absent or empty removes it). Other
 * paths are ignored here; callers validate them.
 */
export function applyLabelPaths(
  current: Labels,
  incoming: Labels,
  paths: readonly string[],
): Labels {
  let next: Labels = { ...current };
  for (const p of paths) {
    if (p === "labels") {
      next = { ...incoming };
    } else if (p.startsWith("labels.")) {
      const key = p.slice("labels.".length);
      const v = incoming[key];
      if (v === undefined || v === "") delete next[key];
      else next[key] = v;
    }
  }
  return Object.fromEntries(Object.entries(next).filter(([, v]) => v !== ""));
}

/** containerd does not store labels with empty values. */
export function dropEmpty(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ""));
}
