import { errInvalidArgument, isInvalidArgument } from "@containerd-ts/errdefs";
import { AllOf, AnyOf, always, Selector, type Filter, type Operator } from "./filter.js";
import { Scanner, Tok } from "./scanner.js";
import { unquote } from "./unquote.js";

/**
 * Grammar (containerd's filters package):
 *   selectors := selector ("," selector)*
 *   selector  := fieldpath [operator value]
 *   fieldpath := field ("." field)*
 *   field     := quoted | [A-Za-z0-9_]+
 *   operator  := "==" | "!=" | "~="
 *   value     := quoted | [^\s,]+      ('|' and '/' quotes only after "~=")
 */
export class FilterSyntaxError extends Error {}

const EOF = -1;
const COMMA = 44;
const DOT = 46;

class Parser {
  private readonly scanner: Scanner;
  constructor(private readonly input: string) {
    this.scanner = new Scanner(input);
  }

  parse(): Filter {
    const all: Filter[] = [this.selector()];
    for (;;) {
      const next = this.scanner.peek();
      if (next === EOF) break;
      if (next !== COMMA)
        throw this.error(this.scanner.ppos, `unexpected input: ${String.fromCodePoint(next)}`);
      const t = this.scanner.scan();
      if (t.tok !== Tok.Separator) throw this.error(t.pos, "expected a separator");
      all.push(this.selector());
    }
    return new AllOf(all);
  }

  private selector(): Selector {
    const fieldpath = this.fieldpath();
    const next = this.scanner.peek();
    if (next === COMMA || next === DOT || next === EOF) return new Selector(fieldpath, "present");
    const op = this.operator();
    return new Selector(fieldpath, op, this.value(op === "~="));
  }

  private fieldpath(): string[] {
    const fields = [this.field()];
    while (this.scanner.peek() === DOT) {
      const t = this.scanner.scan();
      if (t.tok !== Tok.Separator) throw this.error(t.pos, "expected a field separator (`.`)");
      fields.push(this.field());
    }
    return fields;
  }

  private field(): string {
    const t = this.scanner.scan();
    switch (t.tok) {
      case Tok.Field:
        return t.text;
      case Tok.Quoted:
        return this.unquote(t.pos, t.text, false);
      case Tok.Illegal:
        throw this.error(t.pos, this.scanner.err);
      default:
        throw this.error(t.pos, "expected field or quoted");
    }
  }

  private operator(): Operator {
    const t = this.scanner.scan();
    if (t.tok === Tok.Operator) {
      if (t.text === "==" || t.text === "!=" || t.text === "~=") return t.text;
      throw this.error(t.pos, `unsupported operator "${t.text}"`);
    }
    if (t.tok === Tok.Illegal) throw this.error(t.pos, this.scanner.err);
    throw this.error(t.pos, 'expected an operator ("=="|"!="|"~=")');
  }

  private value(allowAltQuotes: boolean): string {
    const t = this.scanner.scan();
    switch (t.tok) {
      case Tok.Value:
      case Tok.Field:
        return t.text;
      case Tok.Quoted:
        return this.unquote(t.pos, t.text, allowAltQuotes);
      case Tok.Illegal:
        throw this.error(t.pos, this.scanner.err);
      default:
        throw this.error(t.pos, "expected value or quoted");
    }
  }

  private unquote(pos: number, s: string, allowAlts: boolean): string {
    if (!allowAlts && s[0] !== '"') throw this.error(pos, "invalid quote encountered");
    try {
      return unquote(s);
    } catch (err) {
      throw this.error(pos, `unquoting failed: ${(err as Error).message}`);
    }
  }

  private error(pos: number, msg: string): FilterSyntaxError {
    const where =
      pos < this.input.length
        ? `${this.input.slice(0, pos)} >|${this.input[pos]}|< ${this.input.slice(pos + 1)}`
        : this.input;
    return new FilterSyntaxError(`parse error: [${where}]: ${msg}`);
  }
}

/** Parses one filter string (commas = AND); "" matches everything. */
export function parseFilter(s: string): Filter {
  if (s === "") return always;
  try {
    return new Parser(s).parse();
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw errInvalidArgument(`filters: ${err.message}`);
    throw err;
  }
}

/**
 * Parses a list of filter strings, any of which may match (OR); [] matches everything.
 * A syntax error carries containerd's ParseAll wording (one `: invalid argument` suffix).
 */
export function parseFilters(filters: readonly string[]): Filter {
  if (filters.length === 0) return always;
  return new AnyOf(filters.map((s) => withInvalidSuffix(() => parseFilter(s))));
}

/**
 * parseFilters as containerd's metadata stores (containers, leases) and introspection call it:
 * they wrap the
 * ParseAll error in InvalidArgument once more, so the message ends in the suffix twice.
 */
export function parseStoreFilters(filters: readonly string[]): Filter {
  return withInvalidSuffix(() => parseFilters(filters));
}

function withInvalidSuffix<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (isInvalidArgument(err))
      throw errInvalidArgument(`${(err as Error).message}: invalid argument`);
    throw err;
  }
}
