/** logrus-style text lines on stderr (the bundle's `log` FIFO the daemon copies to its log). */
export type LogLevel = "debug" | "info" | "warning" | "error";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, err?: unknown, fields?: Record<string, unknown>): void;
}

function quote(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
  return /^[A-Za-z0-9_./:-]+$/.test(s) ? s : JSON.stringify(s);
}

export function createLogger(debug: boolean, base: Record<string, unknown> = {}): Logger {
  const write = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    const all = { ...fields, ...base };
    const extra = Object.entries(all)
      .map(([k, v]) => ` ${k}=${quote(v)}`)
      .join("");
    try {
      process.stderr.write(
        `time="${new Date().toISOString()}" level=${level} msg=${quote(msg)}${extra}\n`,
      );
    } catch {
      // nobody is reading the log
    }
  };
  return {
    debug: (m, f) => debug && write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warning", m, f),
    error: (m, err, f) => write("error", m, err === undefined ? f : { ...f, error: err }),
  };
}
