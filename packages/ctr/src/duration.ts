const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go-style duration ("10s", "1m30s", "500ms") or a bare number of seconds into
 * milliseconds. Returns undefined for "0"/"" (no timeout).
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "" || s === "0") return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) throw new Error(`invalid duration "${text}"`);
  return total;
}
