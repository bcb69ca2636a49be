import { ContainerdError, ErrorKind, GrpcCode, kindToGrpcCode } from "@containerd-ts/errdefs";

export interface StatusLike {
  code: number;
  message: string;
}

/** A status the server answers with instead of calling a handler. */
export class StatusError extends Error implements StatusLike {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "StatusError";
  }
}

/** Node errno codes that Go's ttrpc server maps (via os.IsExist & co.) to gRPC codes. */
const errnoCodes: Record<string, number> = {
  ENOENT: GrpcCode.NotFound,
  EEXIST: GrpcCode.AlreadyExists,
  EACCES: GrpcCode.PermissionDenied,
  EPERM: GrpcCode.PermissionDenied,
  EINVAL: GrpcCode.InvalidArgument,
};

/**
 * A connect-es ConnectError, recognised by shape: importing @connectrpc/connect here would cost
 * every shim start the time to load it.
 */
function isConnectError(err: unknown): err is Error & { code: number; rawMessage: string } {
  return (
    err instanceof Error &&
    err.name === "ConnectError" &&
    typeof (err as { code?: unknown }).code === "number" &&
    typeof (err as { rawMessage?: unknown }).rawMessage === "string"
  );
}

/** Server edge: whatever a handler threw → the google.rpc.Status sent back. */
export function errorToStatus(err: unknown): StatusLike {
  if (err instanceof StatusError) return { code: err.code, message: err.message };
  if (err instanceof ContainerdError)
    return { code: kindToGrpcCode(err.kind), message: err.message };
  if (isConnectError(err)) return { code: err.code, message: err.rawMessage };
  if (err instanceof Error) {
    const errno = (err as NodeJS.ErrnoException).code;
    const code = (errno !== undefined ? errnoCodes[errno] : undefined) ?? GrpcCode.Unknown;
    return { code, message: err.message };
  }
  return { code: GrpcCode.Unknown, message: String(err) };
}

export const errDeadlineExceeded = () =>
  new ContainerdError(ErrorKind.DeadlineExceeded, "context deadline exceeded");
export const errCanceled = () => new ContainerdError(ErrorKind.Canceled, "context canceled");
export const errClosed = (cause?: unknown) =>
  new ContainerdError(ErrorKind.Unavailable, "ttrpc: closed", { cause });
