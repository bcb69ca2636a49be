import { spawnSync } from "node:child_process";
import type { Hook } from "../spec/types.js";

/** The state object hooks get on stdin (OCI runtime spec "state"). */
export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** Runs hooks in order with the state on stdin; the first failure or timeout throws. */
export function runHooks(name: string, hooks: readonly Hook[] | undefined, state: HookState): void {
  (hooks ?? []).forEach((h, i) => {
    const args = h.args ?? [];
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0] ?? h.path,
      input: JSON.stringify(state),
      env: Object.fromEntries(
        (h.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      ),
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: "SIGKILL",
      stdio: ["pipe", "pipe", "pipe"],
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT")
      throw new Error(`${name} hook #${i}: timeout after ${h.timeout}s`);
    if (r.error) throw new Error(`${name} hook #${i}: ${r.error.message}`);
    if (r.status !== 0)
      throw new Error(
        `${name} hook #${i}: error running hook: exit status ${r.status ?? r.signal}, stdout: ${r.stdout}, stderr: ${r.stderr}`,
      );
  });
}
