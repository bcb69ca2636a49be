/**
 * Filters as containerd evaluates them: a selector tests one field path of an object;
 * selectors joined by commas must all match; separate filter strings are alternatives.
 */

/** Looks up a field path on some object; undefined means "not present". */
export type Adaptor = (fieldpath: readonly string[]) => string | undefined;

export type Operator = "present" | "==" | "!=" | "~=";

export interface Filter {
  match(adaptor: Adaptor): boolean;
}

export const always: Filter = { match: () => true };

export class Selector implements Filter {
  private readonly re: RegExp | undefined;

  constructor(
    readonly fieldpath: readonly string[],
    readonly operator: Operator,
    readonly value = "",
  ) {
    if (operator === "~=") {
      try {
        this.re = new RegExp(value, "u");
      } catch {
        // containerd logs a bad expression and treats it as no match
        this.re = undefined;
      }
    }
  }

  match(adaptor: Adaptor): boolean {
    const value = adaptor(this.fieldpath);
    switch (this.operator) {
      case "present":
        return value !== undefined;
      case "==":
        return value !== undefined && value === this.value;
      case "!=":
        return (value ?? "") !== this.value;
      case "~=":
        return this.re !== undefined && this.re.test(value ?? "");
    }
  }
}

export class AllOf implements Filter {
  constructor(readonly filters: readonly Filter[]) {}
  match(adaptor: Adaptor): boolean {
    return this.filters.every((f) => f.match(adaptor));
  }
}

export class AnyOf implements Filter {
  constructor(readonly filters: readonly Filter[]) {}
  match(adaptor: Adaptor): boolean {
    return this.filters.some((f) => f.match(adaptor));
  }
}
