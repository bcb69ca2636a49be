import { ContainerdError, ErrorKind } from "@containerd-ts/errdefs";

/** A runtime command that failed; message is what the runtime said, as the runc shim reports it. */
export class RuncError extends ContainerdError {
  constructor(
    kind: ErrorKind,
    message: string,
    /** e.g. "create", "kill" */
    readonly command: string,
    /** null when the runtime died of a signal or never started */
    readonly exitCode: number | null,
    /** stdout+stderr of the runtime, when it was captured */
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(kind, message, options);
    this.name = "RuncError";
  }
}

/** The msg of the last `error` (or `fatal`) line in runtime log text, JSON or logfmt. */
export function lastLogError(text: string): string | undefined {
  let last: string | undefined;
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    if (trimmed.startsWith("{")) {
      try {
        const entry = JSON.parse(trimmed) as { level?: string; msg?: string };
        if (isErrorLevel(entry.level) && typeof entry.msg === "string") last = entry.msg.trim();
      } catch {
        // a partial line: ignore it like the Go decoder's caller does
      }
      continue;
    }
    const level = /(?:^|\s)level=("?)(\w+)\1/.exec(trimmed)?.[2];
    if (!isErrorLevel(level)) continue;
    const msg = /(?:^|\s)msg=(?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(trimmed);
    if (msg) last = msg[1] !== undefined ? unquote(msg[1]) : msg[2];
  }
  return last;
}

const isErrorLevel = (level: string | undefined) => level === "error" || level === "fatal";

function unquote(s: string): string {
  try {
    return JSON.parse(`"${s}"`) as string;
  } catch {
    return s;
  }
}

/**
 * containerd's runc shim treats these kill failures as "the process is already gone".
 * The same "does not exist" wording from any command means the container is unknown.
 */
export function kindOfFailure(command: string, message: string): ErrorKind {
  const lower = message.toLowerCase();
  if (
    command === "kill" &&
    (lower.includes("not running") ||
      lower.includes("no such process") ||
      lower.includes("process already finished"))
  ) {
    return ErrorKind.NotFound;
  }
  if (lower.includes("does not exist")) return ErrorKind.NotFound;
  return ErrorKind.Unknown;
}
