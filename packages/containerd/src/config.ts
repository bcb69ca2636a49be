import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { errInvalidArgument } from "@containerd-ts/errdefs";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** 16 MiB: grpc-go defaults to 4 MiB for receiving; containerd raises it to 16 MiB. */
export const DEFAULT_MAX_RECV_MESSAGE_SIZE = 16 << 20;

export interface DaemonConfig {
  /** The gRPC unix socket. */
  address: string;
  /** The ttrpc socket shims publish events to (address + ".ttrpc"). */
  ttrpcAddress: string;
  /** Persistent data: meta.db, the lock file, plugin data. */
  root: string;
  /** Runtime state (bundles, sockets), gone after a reboot. */
  state: string;
  logLevel: LogLevel;
  /** The TOML file this config was read from, if any. */
  configPath?: string;
  /** Largest request message accepted, in bytes. */
  maxRecvMessageSize: number;
  events: {
    /** How many events the history keeps (oldest pruned first). */
    retention: number;
  };
  metadata: {
    /** SQLite durability: "full" fsyncs every commit (default), "normal" survives crashes of the daemon only. */
    synchronous: "full" | "normal";
  };
  /** The raw `[plugins."<id>"]` tables, for plugins to read their own settings. */
  plugins: Record<string, Record<string, unknown>>;
}

export const DEFAULT_CONFIG: Readonly<DaemonConfig> = {
  address: "/run/containerd-ts/containerd.sock",
  ttrpcAddress: "/run/containerd-ts/containerd.sock.ttrpc",
  root: "/var/lib/containerd-ts",
  state: "/run/containerd-ts",
  logLevel: "info",
  maxRecvMessageSize: DEFAULT_MAX_RECV_MESSAGE_SIZE,
  events: { retention: 100_000 },
  metadata: { synchronous: "full" },
  plugins: {},
};

/** Command-line settings; each one wins over the file. */
export interface ConfigFlags {
  address?: string;
  root?: string;
  state?: string;
  config?: string;
  logLevel?: string;
}

type Table = Record<string, unknown>;

function table(v: unknown, where: string): Table {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw errInvalidArgument(`config: ${where} must be a table`);
  }
  return v as Table;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "")
    throw errInvalidArgument(`config: ${where} must be a non-empty string`);
  return v;
}

function int(v: unknown, where: string): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw errInvalidArgument(`config: ${where} must be a non-negative integer`);
  }
  return n;
}

export function parseLogLevel(v: string): LogLevel {
  const level = v === "warning" ? "warn" : v;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw errInvalidArgument(`log level "${v}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  return level as LogLevel;
}

/**
 * Reads containerd-style TOML: top-level root/state, [grpc] address and
 * max_recv_message_size, [ttrpc] address, [debug] level, [events] retention,
 * [metadata] synchronous ("full" | "normal"),
 * [plugins."<id>"] tables.
 */
export function parseConfigToml(text: string, source = "config"): Partial<DaemonConfig> {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (err) {
    throw errInvalidArgument(`${source}: ${(err as Error).message}`);
  }
  const grpc = table(doc["grpc"], "[grpc]");
  const ttrpc = table(doc["ttrpc"], "[ttrpc]");
  const debug = table(doc["debug"], "[debug]");
  const events = table(doc["events"], "[events]");
  const plugins = table(doc["plugins"], "[plugins]");
  const metadata = table(doc["metadata"], "[metadata]");
  const out: Partial<DaemonConfig> = {};
  const set = <K extends keyof DaemonConfig>(k: K, v: DaemonConfig[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("root", str(doc["root"], "root"));
  set("state", str(doc["state"], "state"));
  set("address", str(grpc["address"], "grpc.address"));
  set("maxRecvMessageSize", int(grpc["max_recv_message_size"], "grpc.max_recv_message_size"));
  set("ttrpcAddress", str(ttrpc["address"], "ttrpc.address"));
  const level = str(debug["level"], "debug.level");
  if (level !== undefined) out.logLevel = parseLogLevel(level);
  const retention = int(events["retention"], "events.retention");
  if (retention !== undefined) out.events = { retention };
  const sync = str(metadata["synchronous"], "metadata.synchronous");
  if (sync !== undefined) {
    if (sync !== "full" && sync !== "normal") {
      throw errInvalidArgument('config: metadata.synchronous must be "full" or "normal"');
    }
    out.metadata = { synchronous: sync };
  }
  out.plugins = Object.fromEntries(
    Object.entries(plugins).map(([id, t]) => [id, table(t, `[plugins."${id}"]`)]),
  );
  return out;
}

/** Defaults, then the TOML file (if --config), then flags. */
export function resolveConfig(
  flags: ConfigFlags,
  readFile = (p: string) => readFileSync(p, "utf8"),
): DaemonConfig {
  const file = flags.config
    ? parseConfigToml(readConfigFile(flags.config, readFile), flags.config)
    : {};
  const cfg: DaemonConfig = { ...DEFAULT_CONFIG, ...file };
  if (flags.address) cfg.address = flags.address;
  if (flags.root) cfg.root = flags.root;
  if (flags.state) cfg.state = flags.state;
  if (flags.logLevel) cfg.logLevel = parseLogLevel(flags.logLevel);
  if (flags.config) cfg.configPath = flags.config;
  // the ttrpc socket follows the gRPC address unless set explicitly
  if (!file.ttrpcAddress) cfg.ttrpcAddress = `${cfg.address}.ttrpc`;
  cfg.address = stripUnixScheme(cfg.address);
  cfg.ttrpcAddress = stripUnixScheme(cfg.ttrpcAddress);
  return cfg;
}

function readConfigFile(path: string, readFile: (p: string) => string): string {
  try {
    return readFile(path);
  } catch (err) {
    throw errInvalidArgument(`config: cannot read ${path}: ${(err as Error).message}`);
  }
}

export const stripUnixScheme = (a: string): string => a.replace(/^unix:\/\//, "");
