/**
 * The shim's command line, parsed the way Go's `flag` package parses containerd-shim-runc-v2's:
 * `-name value`, `-name=value`, `--name`, bool flags without a value; parsing stops at the first
 * non-flag argument (the action) or at `--`.
 */
export interface ShimFlags {
  namespace: string;
  id: string;
  address: string;
  publishBinary: string;
  bundle: string;
  socket: string;
  debug: boolean;
  version: boolean;
  /** "start", "delete" or "" (serve) */
  action: string;
}

const STRING_FLAGS = {
  namespace: "namespace",
  id: "id",
  address: "address",
  "publish-binary": "publishBinary",
  bundle: "bundle",
  socket: "socket",
} as const;
const BOOL_FLAGS = { debug: "debug", v: "version" } as const;

export class FlagError extends Error {}

export function parseFlags(argv: readonly string[]): ShimFlags {
  const flags: ShimFlags = {
    namespace: "",
    id: "",
    address: "",
    publishBinary: "containerd",
    bundle: "",
    socket: "",
    debug: false,
    version: false,
    action: "",
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) break;
    let body = arg.slice(arg.startsWith("--") ? 2 : 1);
    let value: string | undefined;
    const eq = body.indexOf("=");
    if (eq >= 0) {
      value = body.slice(eq + 1);
      body = body.slice(0, eq);
    }
    if (body in BOOL_FLAGS) {
      const key = BOOL_FLAGS[body as keyof typeof BOOL_FLAGS];
      flags[key] = value === undefined ? true : parseBool(body, value);
      continue;
    }
    if (body in STRING_FLAGS) {
      const key = STRING_FLAGS[body as keyof typeof STRING_FLAGS];
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${body}`);
        value = argv[++i]!;
      }
      flags[key] = value;
      continue;
    }
    throw new FlagError(`flag provided but not defined: -${body}`);
  }
  flags.action = argv[i] ?? "";
  return flags;
}

function parseBool(name: string, v: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  throw new FlagError(`invalid boolean value "${v}" for -${name}`);
}
