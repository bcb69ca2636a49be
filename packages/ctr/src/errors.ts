import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The text ctr prints for a failed call. ctr (containerd's errdefs.FromGRPC) ends a server's
 * message with its code's text exactly once (`task c1 not found: not found`, `cannot pause a
 * paused container: unknown`), so ctr-ts does the same; other errors print their own message.
 */
const CODE_TEXT: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: "invalid argument",
  [Code.AlreadyExists]: "already exists",
  [Code.NotFound]: "not found",
  [Code.Unavailable]: "unavailable",
  [Code.FailedPrecondition]: "failed precondition",
  [Code.Unimplemented]: "not implemented",
  [Code.Canceled]: "context canceled",
  [Code.DeadlineExceeded]: "context deadline exceeded",
};

export function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) {
    const text = CODE_TEXT[err.code] ?? "unknown";
    const message = err.rawMessage;
    const base = message.endsWith(`: ${text}`) ? message.slice(0, -(text.length + 2)) : message;
    return base === text || base === "" ? text : `${base}: ${text}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A gRPC NotFound answer. */
export const isNotFound = (err: unknown): boolean =>
  err instanceof ConnectError && err.code === Code.NotFound;
