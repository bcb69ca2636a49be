import { errFailedPrecondition } from "@containerd-ts/errdefs";
import { checkIdentifier } from "./identifiers.js";
import type { DaemonConfig, LogLevel } from "./config.js";
import type { EventExchange } from "./events/index.js";
import type { ContainerService } from "./services/containers/domain.js";
import type { LeaseService } from "./services/leases/domain.js";
import type { NamespaceService } from "./services/namespaces/domain.js";
import type { PluginInfo } from "./services/introspection/domain.js";
import type { MetadataStore } from "./store/index.js";

export type { PluginInfo };

/** Leveled logger writing logfmt lines (like containerd's logrus output) to stderr. */
export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
  return /^[^\s"=]+$/.test(s ?? "") ? (s ?? "") : JSON.stringify(s ?? "");
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
  base: LogFields = {},
): Logger {
  const line = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < RANK[level]) return;
    const all = { ...base, ...fields };
    const extra = Object.entries(all)
      .map(([k, v]) => ` ${k}=${logfmtValue(v)}`)
      .join("");
    write(`time="${new Date().toISOString()}" level=${lvl} msg=${JSON.stringify(msg)}${extra}\n`);
  };
  return {
    level,
    enabled: (l) => RANK[l] >= RANK[level],
    trace: (m, f) => line("trace", m, f),
    debug: (m, f) => line("debug", m, f),
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
    with: (f) => createLogger(level, write, { ...base, ...f }),
  };
}

/**
 * Everything a service or lifecycle hook gets. Domain objects are callable in-process
 * (no gRPC): e.g. the tasks service reads containers with ctx.containers.get(ns, id).
 */
export interface DaemonContext {
  config: DaemonConfig;
  /** SQL lives behind this; prefer the domain objects below. */
  store: MetadataStore;
  namespaces: NamespaceService;
  containers: ContainerService;
  leases: LeaseService;
  events: EventExchange;
  /** What Introspection/Plugins reports; other parts of the daemon may push theirs. */
  plugins: PluginInfo[];
  log: Logger;
  /** Aborted when the daemon starts shutting down (end long-running streams). */
  shutdown: AbortSignal;
}

/** gRPC metadata key carrying the namespace on every namespaced call. */
export const NAMESPACE_HEADER = "containerd-namespace";

/**
 * The namespace of a call, from the `containerd-namespace` header: missing →
 * FailedPrecondition "namespace is required" (as containerd); malformed → InvalidArgument.
 */
export function requireNamespace(headers: Headers): string {
  const ns = headers.get(NAMESPACE_HEADER);
  if (!ns) throw errFailedPrecondition("namespace is required: failed precondition");
  return checkIdentifier(ns, "namespace validation: ");
}
