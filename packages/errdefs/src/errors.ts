/**
 * containerd's error vocabulary (errdefs). Domain code throws these kinds; only the
 * transport edges (gRPC server/client, ttrpc server/client) translate them to codes.
 */
export enum ErrorKind {
  Unknown = "unknown",
  InvalidArgument = "invalid-argument",
  NotFound = "not-found",
  AlreadyExists = "already-exists",
  FailedPrecondition = "failed-precondition",
  Unavailable = "unavailable",
  NotImplemented = "not-implemented",
  Canceled = "canceled",
  DeadlineExceeded = "deadline-exceeded",
  ResourceExhausted = "resource-exhausted",
  PermissionDenied = "permission-denied",
  Aborted = "aborted",
  Internal = "internal",
}

export class ContainerdError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ContainerdError";
    this.kind = kind;
  }
}

export const errInvalidArgument = (msg: string) =>
  new ContainerdError(ErrorKind.InvalidArgument, msg);
export const errNotFound = (msg: string) => new ContainerdError(ErrorKind.NotFound, msg);
export const errAlreadyExists = (msg: string) => new ContainerdError(ErrorKind.AlreadyExists, msg);
export const errFailedPrecondition = (msg: string) =>
  new ContainerdError(ErrorKind.FailedPrecondition, msg);
export const errUnavailable = (msg: string) => new ContainerdError(ErrorKind.Unavailable, msg);
export const errNotImplemented = (msg: string) =>
  new ContainerdError(ErrorKind.NotImplemented, msg);
export const errInternal = (msg: string, cause?: unknown) =>
  new ContainerdError(ErrorKind.Internal, msg, { cause });

/** The kind of any thrown value; foreign errors are Unknown. */
export function kindOf(err: unknown): ErrorKind {
  return err instanceof ContainerdError ? err.kind : ErrorKind.Unknown;
}

export const isNotFound = (err: unknown) => kindOf(err) === ErrorKind.NotFound;
export const isAlreadyExists = (err: unknown) => kindOf(err) === ErrorKind.AlreadyExists;
export const isInvalidArgument = (err: unknown) => kindOf(err) === ErrorKind.InvalidArgument;
export const isFailedPrecondition = (err: unknown) => kindOf(err) === ErrorKind.FailedPrecondition;
