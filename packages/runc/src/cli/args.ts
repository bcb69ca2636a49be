/** Flag kinds as urfave/cli (runc's CLI library) has them. */
export type FlagType = "bool" | "string" | "int" | "multi";

export interface FlagSpec {
  type: FlagType;
  aliases?: string[];
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  flags: Record<string, string | boolean | number | string[] | undefined>;
  positionals: string[];
}

export class UsageError extends Error {}

/**
 * Go-style flags: `-x`, `--x`, `-x=v`, `--x v`; bools take `=true|false` only. With
 * `stopAtPositional` (runc's SkipArgReorder: exec, ps) the first positional ends the flags,
 * otherwise flags may follow positionals as urfave/cli's reordering allows. `--` ends flags.
 */
export function parseArgs(
  args: readonly string[],
  specs: FlagSpecs,
  stopAtPositional = false,
): ParsedArgs {
  const byName = new Map<string, [string, FlagSpec]>();
  for (const [name, spec] of Object.entries(specs)) {
    byName.set(name, [name, spec]);
    for (const a of spec.aliases ?? []) byName.set(a, [name, spec]);
  }
  const flags: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  let i = 0;
  let flagsDone = false;
  while (i < args.length) {
    const arg = args[i++]!;
    if (flagsDone || arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      if (stopAtPositional) flagsDone = true;
      continue;
    }
    if (arg === "--") {
      flagsDone = true;
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const entry = byName.get(key);
    if (!entry) throw new UsageError(`flag provided but not defined: -${key}`);
    const [name, spec] = entry;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.type === "bool") {
      flags[name] = value === undefined ? true : value === "true" || value === "1";
      continue;
    }
    if (value === undefined) {
      if (i >= args.length) throw new UsageError(`flag needs an argument: -${key}`);
      value = args[i++]!;
    }
    if (spec.type === "int") {
      if (!/^-?\d+$/.test(value))
        throw new UsageError(`invalid value ${JSON.stringify(value)} for flag -${key}`);
      flags[name] = Number(value);
    } else if (spec.type === "multi") {
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    } else {
      flags[name] = value;
    }
  }
  return { flags, positionals };
}

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const bool = (v: unknown): boolean => v === true;
export const int = (v: unknown, d = 0): number => (typeof v === "number" ? v : d);
export const multi = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
