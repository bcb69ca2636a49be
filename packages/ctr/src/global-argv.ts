/**
 * containerd#8558: global flags must work anywhere on the line. oclif only parses flags after
 * the command id, so the bin lifts the global flags written *before* the command id out of
 * argv, and every command puts them back in front of its own argv.
 */
const VALUE_FLAGS = new Set(["-a", "--address", "-n", "--namespace", "--timeout"]);
const BOOLEAN_FLAGS = new Set(["--json"]);

export interface HoistedArgv {
  /** Global flags (with their values) found before the command id. */
  global: string[];
  /** The rest, starting at the command id. */
  rest: string[];
}

export function hoistGlobalFlags(argv: readonly string[]): HoistedArgv {
  const global: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const tok = argv[i];
    const name = tok.includes("=") ? tok.slice(0, tok.indexOf("=")) : tok;
    if (VALUE_FLAGS.has(name) && name !== tok) {
      global.push(tok);
      i += 1;
    } else if (VALUE_FLAGS.has(tok) && i + 1 < argv.length) {
      global.push(tok, argv[i + 1]);
      i += 2;
    } else if (BOOLEAN_FLAGS.has(tok)) {
      global.push(tok);
      i += 1;
    } else {
      break;
    }
  }
  return { global, rest: argv.slice(i) };
}

let hoisted: string[] = [];

export function setHoistedGlobalFlags(flags: string[]): void {
  hoisted = flags;
}

export function hoistedGlobalFlags(): string[] {
  return hoisted;
}

const TOPIC_ALIASES: Record<string, string> = {
  namespace: "namespaces",
  ns: "namespaces",
  container: "containers",
  c: "containers",
  task: "tasks",
  t: "tasks",
};

/** ctr's topic spellings (`c`, `ns`, `t`...) as the topic, so that `ctr-ts t --help` works too. */
export function canonicalTopic(rest: readonly string[]): string[] {
  const first = rest[0];
  return first !== undefined && first in TOPIC_ALIASES
    ? [TOPIC_ALIASES[first], ...rest.slice(1)]
    : [...rest];
}
