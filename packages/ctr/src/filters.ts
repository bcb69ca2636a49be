/**
 * Building containerd filter expressions (containerd's filters package syntax):
 * `field==value`, `!=`, `~=`; commas AND the parts of one filter, separate filters OR.
 */

const BARE_VALUE = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/;
const BARE_FIELD = /^[A-Za-z0-9_]+$/;

/** A value as the filter lexer reads it: bare when safe, otherwise a double-quoted string. */
export function quoteFilterValue(value: string): string {
  if (BARE_VALUE.test(value)) return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A field path part: label keys with dots or slashes must be quoted (`labels."a.b/c"`). */
export function quoteFieldPart(part: string): string {
  return BARE_FIELD.test(part) ? part : `"${part.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export interface FilterShortcuts {
  /** `k=v` (equals) or `k` (present) label selectors */
  labels?: string[];
  runtime?: string;
  /** regular expression on the id */
  idRegexp?: string;
}

/** One filter ANDing the shortcuts, or none when no shortcut is given. */
export function shortcutFilter(s: FilterShortcuts): string | undefined {
  const parts: string[] = [];
  for (const l of s.labels ?? []) {
    const eq = l.indexOf("=");
    const key = eq < 0 ? l : l.slice(0, eq);
    const field = `labels.${quoteFieldPart(key)}`;
    parts.push(eq < 0 ? field : `${field}==${quoteFilterValue(l.slice(eq + 1))}`);
  }
  if (s.runtime) parts.push(`runtime.name==${quoteFilterValue(s.runtime)}`);
  if (s.idRegexp) parts.push(`id~=${quoteFilterValue(s.idRegexp)}`);
  return parts.length > 0 ? parts.join(",") : undefined;
}

/**
 * The filter list for a List call: raw filters (OR'ed, as given on the command line), each
 * ANDed with the shortcuts when both are present.
 */
export function buildFilters(raw: readonly string[], s: FilterShortcuts = {}): string[] {
  const shortcut = shortcutFilter(s);
  if (raw.length === 0) return shortcut ? [shortcut] : [];
  return raw.map((f) => (shortcut ? `${f},${shortcut}` : f));
}
