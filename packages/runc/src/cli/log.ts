import { appendFileSync, writeSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warning" | "error";

/**
 * logrus as runc configures it: text (`time="…" level=error msg="…"`) or JSON lines
 * (`{"level":"error","msg":"…","time":"…"}`, what the shim reads), to --log or stderr.
 */
export class Logger {
  constructor(
    readonly file: string | undefined,
    readonly format: "text" | "json",
    readonly debugEnabled: boolean,
  ) {}

  get toStderr(): boolean {
    return this.file === undefined || this.file === "" || this.file === "/dev/stderr";
  }

  log(level: LogLevel, msg: string): void {
    if (level === "debug" && !this.debugEnabled) return;
    const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const line =
      this.format === "json"
        ? JSON.stringify({ level, msg, time }) + "\n"
        : `time=${JSON.stringify(time)} level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      if (this.toStderr) writeSync(2, line);
      else appendFileSync(this.file!, line);
    } catch {
      // logging must never turn an error into a crash
    }
  }

  error(msg: string): void {
    this.log("error", msg);
  }
  warn(msg: string): void {
    this.log("warning", msg);
  }
  debug(msg: string): void {
    this.log("debug", msg);
  }
}
