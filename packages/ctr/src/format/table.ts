/**
 * Column-aligned text like Go's tabwriter as ctr uses it: every column as wide as its widest
 * cell plus `padding` spaces. Trailing blanks are dropped.
 */
export function formatTable(header: string[], rows: string[][], padding = 4): string {
  const all = [header, ...rows];
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + padding)))
        .join("")
        .trimEnd(),
    )
    .map((line) => line + "\n")
    .join("");
}

/** `k=v,k2=v2` as ctr prints label maps; "-" for none (ctr prints "" for namespaces). */
export function formatLabels(labels: Record<string, string>, empty = ""): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return empty;
  return entries.map(([k, v]) => `${k}=${v}`).join(",");
}
