import { ContainerdError, ErrorKind } from "@containerd-ts/errdefs";

/**
 * containerd passes every shim error through errdefs.FromGRPC, which ends the message with the
 * kind's text (`cannot start a running process: unknown`) unless it already does; clients see
 * that text. The same here, at the daemon's edge to its shims.
 */
const KIND_TEXT: Partial<Record<ErrorKind, string>> = {
  [ErrorKind.Unknown]: "unknown",
  [ErrorKind.InvalidArgument]: "invalid argument",
  [ErrorKind.NotFound]: "not found",
  [ErrorKind.AlreadyExists]: "already exists",
  [ErrorKind.FailedPrecondition]: "failed precondition",
  [ErrorKind.Unavailable]: "unavailable",
  [ErrorKind.NotImplemented]: "not implemented",
  [ErrorKind.Canceled]: "context canceled",
  [ErrorKind.DeadlineExceeded]: "context deadline exceeded",
};

export function rebaseShimError(err: unknown): unknown {
  if (!(err instanceof ContainerdError)) return err;
  const text = KIND_TEXT[err.kind];
  if (text === undefined || err.message === text || err.message.endsWith(`: ${text}`)) return err;
  return new ContainerdError(err.kind, `${err.message}: ${text}`, { cause: err });
}

/** The client with every call's rejection rebased. */
export function rebasingShimErrors<T extends object>(client: T): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((err) => {
          throw rebaseShimError(err);
        });
    },
  });
}
