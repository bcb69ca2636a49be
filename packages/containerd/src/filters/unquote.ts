/**
 * Go-style unquoting for filter literals delimited by '"', '|' or '/'. Inside, the
 * delimiter itself must be escaped; '|' and '/' literals exist so regular expressions
 * need fewer escapes.
 */
export class QuoteSyntaxError extends Error {
  constructor() {
    super("quote syntax error");
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
};

const HEX_WIDTH: Record<string, number> = { x: 2, u: 4, U: 8 };

export function unquote(s: string): string {
  if (s.length < 2) throw new QuoteSyntaxError();
  const quote = s[0]!;
  if (quote !== s[s.length - 1]) throw new QuoteSyntaxError();
  if (!['"', "|", "/"].includes(quote)) throw new QuoteSyntaxError();
  const body = s.slice(1, -1);
  if (body.includes("\n")) throw new QuoteSyntaxError();
  if (!body.includes("\\") && !body.includes(quote)) return body;

  // Collect bytes so that \x and octal escapes produce raw bytes as Go does.
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === quote) throw new QuoteSyntaxError();
    if (c !== "\\") {
      const cp = body.codePointAt(i)!;
      out.push(...Buffer.from(String.fromCodePoint(cp), "utf8"));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) throw new QuoteSyntaxError();
    i += 2;
    if (e in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[e]!.charCodeAt(0));
    } else if (e in HEX_WIDTH) {
      const n = HEX_WIDTH[e]!;
      const digits = body.slice(i, i + n);
      if (digits.length < n || !/^[0-9a-fA-F]+$/.test(digits)) throw new QuoteSyntaxError();
      const v = parseInt(digits, 16);
      i += n;
      if (e === "x") out.push(v);
      else if (v > 0x10ffff) throw new QuoteSyntaxError();
      else out.push(...Buffer.from(String.fromCodePoint(v), "utf8"));
    } else if (e >= "0" && e <= "7") {
      const digits = e + body.slice(i, i + 2);
      if (!/^[0-7]{3}$/.test(digits)) throw new QuoteSyntaxError();
      const v = parseInt(digits, 8);
      if (v > 255) throw new QuoteSyntaxError();
      out.push(v);
      i += 2;
    } else if (e === quote) {
      out.push(e.charCodeAt(0));
    } else {
      throw new QuoteSyntaxError();
    }
  }
  return Buffer.from(out).toString("utf8");
}
