import { constants } from "node:os";

/** `SIGTERM`, `TERM`, `term` or `15` → 15. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw new Error(`invalid signal ${text}`);
    return n;
  }
  const name = text.toUpperCase().startsWith("SIG")
    ? text.toUpperCase()
    : `SIG${text.toUpperCase()}`;
  const n = (constants.signals as Record<string, number | undefined>)[name];
  if (n === undefined) throw new Error(`unknown signal ${text}`);
  return n;
}

/** Signals `run` forwards to the task when it has no terminal (ctr's sig-proxy). */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];
