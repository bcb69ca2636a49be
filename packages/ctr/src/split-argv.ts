/**
 * Commands that take a command line to run (`run ID CMD ARGS...`) must stop parsing their own
 * flags at the command, like ctr (urfave/cli) does: `/bin/sh -c 'exit 7'` belongs to the
 * container, not to ctr-ts.
 */
export interface FlagShape {
  /** true when the flag takes a value (`--env K=V`), false for a switch (`--rm`). */
  takesValue: boolean;
}

export interface SplitArgv {
  /** Flags and the leading positionals: what oclif should parse. */
  own: string[];
  /** The command and its arguments, verbatim. */
  command: string[];
}

/**
 * `flags` maps `--name` and `-c` spellings to their shape. After `positionals` positional
 * arguments (or after `--`), everything else is the command.
 */
export function splitCommandLine(
  argv: readonly string[],
  flags: ReadonlyMap<string, FlagShape>,
  positionals: number,
): SplitArgv {
  const own: string[] = [];
  let seen = 0;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === "--") {
      // everything after `--` is positional: finish the own positionals, then the command
      const tail = argv.slice(i + 1);
      const needed = Math.max(0, positionals - seen);
      return { own: [...own, ...tail.slice(0, needed)], command: tail.slice(needed) };
    }
    if (seen >= positionals) return { own, command: argv.slice(i) };
    if (tok.startsWith("-") && tok.length > 1) {
      own.push(tok);
      const shape = flags.get(tok);
      if (shape?.takesValue && !tok.includes("=") && i + 1 < argv.length) {
        own.push(argv[i + 1]);
        i++;
      }
      continue;
    }
    own.push(tok);
    seen++;
  }
  return { own, command: [] };
}

/** Builds the FlagShape map from oclif flag definitions. */
export function flagShapes(
  defs: Record<string, { type: string; char?: string }>,
): Map<string, FlagShape> {
  const shapes = new Map<string, FlagShape>();
  for (const [name, def] of Object.entries(defs)) {
    const shape = { takesValue: def.type === "option" };
    shapes.set(`--${name}`, shape);
    if (def.char) shapes.set(`-${def.char}`, shape);
  }
  return shapes;
}
