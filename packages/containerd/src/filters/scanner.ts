/**
 * Lexer for containerd's filter syntax. Mirrors the token rules of containerd's filters
 * package so that the same inputs are accepted and rejected.
 */
export const enum Tok {
  EOF = "EOF",
  Quoted = "Quoted",
  Value = "Value",
  Field = "Field",
  Separator = "Separator",
  Operator = "Operator",
  Illegal = "Illegal",
  Other = "Other",
}

export interface Token {
  pos: number;
  tok: Tok;
  text: string;
}

const EOF = -1;
const ILLEGAL = -2;

const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isFieldRune = (c: number) => c === 95 /* _ */ || isAlpha(c) || isDigit(c);
const isOperatorRune = (c: number) => c === 61 /* = */ || c === 33 /* ! */ || c === 126; /* ~ */
/** '/', '|' and '"' open quoted literals. */
export const isQuoteRune = (c: number) => c === 47 || c === 124 || c === 34;
const isSeparatorRune = (c: number) => c === 44 /* , */ || c === 46; /* . */
const isSpace = (c: number) => c >= 0 && /\s/u.test(String.fromCodePoint(c));
const VALUE_CLASS = /[\p{L}\p{N}\p{P}\p{S}\p{M}]/u;
const isValueRune = (c: number) =>
  c >= 0 && c !== 44 && !isSpace(c) && VALUE_CLASS.test(String.fromCodePoint(c));

export class Scanner {
  /** Start of the current rune. */
  pos = 0;
  /** End of the current rune. */
  ppos = 0;
  /** After an operator the next bare word is a value, not a field. */
  private value = false;
  err = "";

  constructor(private readonly input: string) {}

  next(): number {
    if (this.ppos >= this.input.length) {
      this.pos = this.ppos;
      return EOF;
    }
    this.pos = this.ppos;
    const c = this.input.codePointAt(this.ppos)!;
    this.ppos += c > 0xffff ? 2 : 1;
    if (c === 0) {
      this.error("unexpected null");
      return ILLEGAL;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      this.error("rune error");
      return ILLEGAL;
    }
    return c;
  }

  /** The next raw character (no whitespace skipping), as a string or "" at the end. */
  peek(): number {
    const { pos, ppos } = this;
    const c = this.next();
    this.pos = pos;
    this.ppos = ppos;
    return c;
  }

  scan(): Token {
    let ch = this.next();
    let pos = this.pos;
    for (;;) {
      if (ch === EOF) return { pos, tok: Tok.EOF, text: "" };
      if (ch === ILLEGAL) return { pos, tok: Tok.Illegal, text: "" };
      if (isQuoteRune(ch)) {
        const ok = this.scanQuoted(ch);
        return { pos, tok: ok ? Tok.Quoted : Tok.Illegal, text: this.input.slice(pos, this.ppos) };
      }
      if (isSeparatorRune(ch)) {
        this.value = false;
        return { pos, tok: Tok.Separator, text: this.input.slice(pos, this.ppos) };
      }
      if (isOperatorRune(ch)) {
        while (isOperatorRune(this.peek())) this.next();
        this.value = true;
        return { pos, tok: Tok.Operator, text: this.input.slice(pos, this.ppos) };
      }
      if (isSpace(ch)) {
        ch = this.next();
        pos = this.pos;
        continue;
      }
      if (this.value) {
        while (isValueRune(this.peek())) this.next();
        this.value = false;
        return { pos, tok: Tok.Value, text: this.input.slice(pos, this.ppos) };
      }
      if (isFieldRune(ch)) {
        while (isFieldRune(this.peek())) this.next();
        return { pos, tok: Tok.Field, text: this.input.slice(pos, this.ppos) };
      }
      return { pos: this.pos, tok: Tok.Other, text: String.fromCodePoint(ch) };
    }
  }

  private scanQuoted(quote: number): boolean {
    let illegal = false;
    let ch = this.next();
    while (ch !== quote) {
      if (ch === 10 || ch < 0) {
        this.error("quoted literal not terminated");
        return false;
      }
      if (ch === 92 /* \ */) {
        const [next, legal] = this.scanEscape(quote);
        ch = next;
        if (!legal) illegal = true;
      } else {
        ch = this.next();
      }
    }
    return !illegal;
  }

  private scanEscape(quote: number): [number, boolean] {
    const ch = this.next();
    const c = ch >= 0 ? String.fromCodePoint(ch) : "";
    const simple = c !== "" && "abfnrtv\\".includes(c);
    if (simple || ch === quote) return [this.next(), true];
    if (c !== "" && c >= "0" && c <= "7") return this.scanDigits(ch, 8, 3);
    if (c === "x") return this.scanDigits(this.next(), 16, 2);
    if (c === "u") return this.scanDigits(this.next(), 16, 4);
    if (c === "U") return this.scanDigits(this.next(), 16, 8);
    this.error("illegal escape sequence");
    return [ch, false];
  }

  private scanDigits(ch: number, base: number, n: number): [number, boolean] {
    while (n > 0 && digitVal(ch) < base) {
      ch = this.next();
      n--;
    }
    if (n > 0) {
      this.error("illegal numeric escape sequence");
      return [ch, false];
    }
    return [ch, true];
  }

  private error(msg: string): void {
    if (this.err === "") this.err = msg;
  }
}

function digitVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 97 + 10;
  if (c >= 65 && c <= 70) return c - 65 + 10;
  return 16;
}
