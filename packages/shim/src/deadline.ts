import { ContainerdError, ErrorKind, kindOf } from "@containerd-ts/errdefs/errors.js";

/** Deadlines of the shim's outgoing calls to the runtime (runc's own work included). */
export const RUNTIME_TIMEOUTS = {
  create: 120_000,
  start: 60_000,
  exec: 120_000,
  delete: 60_000,
  quick: 30_000,
  checkpoint: 300_000,
} as const;

/** Rejects with DeadlineExceeded when `p` has not settled within `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ContainerdError(ErrorKind.DeadlineExceeded, `${what}: deadline of ${ms} ms exceeded`),
        ),
      ms,
    );
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

/** The runtime's error with the runc shim's prefix ("OCI runtime create failed: …"), kind kept. */
export function runtimeError(err: unknown, prefix: string): ContainerdError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ContainerdError(kindOf(err), `${prefix}: ${msg}`, { cause: err });
}

/** Kill errors that mean "already gone" become NotFound, as the runc shim's checkKillError. */
export function killError(err: unknown): ContainerdError {
  const msg = err instanceof Error ? err.message : String(err);
  const lower = msg.toLowerCase();
  if (
    lower.includes("not running") ||
    lower.includes("no such process") ||
    lower.includes("process already finished")
  ) {
    return new ContainerdError(ErrorKind.NotFound, `process already finished: ${msg}`, {
      cause: err,
    });
  }
  if (lower.includes("does not exist")) {
    return new ContainerdError(ErrorKind.NotFound, `no such container: ${msg}`, { cause: err });
  }
  if (err instanceof ContainerdError) return err;
  return new ContainerdError(ErrorKind.Unknown, `unknown error after kill: ${msg}`, { cause: err });
}
