/**
 * gRPC status codes and their mapping to error kinds. Kept free of @connectrpc/connect so the
 * shim and ttrpc (which start often and must start fast) do not load it.
 */
import { ContainerdError, ErrorKind } from "./errors.js";

/** gRPC status codes by number (the same numbers travel in ttrpc's google.rpc.Status). */
export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

const kindToCode: Record<ErrorKind, number> = {
  [ErrorKind.Unknown]: GrpcCode.Unknown,
  [ErrorKind.InvalidArgument]: GrpcCode.InvalidArgument,
  [ErrorKind.NotFound]: GrpcCode.NotFound,
  [ErrorKind.AlreadyExists]: GrpcCode.AlreadyExists,
  [ErrorKind.FailedPrecondition]: GrpcCode.FailedPrecondition,
  [ErrorKind.Unavailable]: GrpcCode.Unavailable,
  [ErrorKind.NotImplemented]: GrpcCode.Unimplemented,
  [ErrorKind.Canceled]: GrpcCode.Canceled,
  [ErrorKind.DeadlineExceeded]: GrpcCode.DeadlineExceeded,
  [ErrorKind.ResourceExhausted]: GrpcCode.ResourceExhausted,
  [ErrorKind.PermissionDenied]: GrpcCode.PermissionDenied,
  [ErrorKind.Aborted]: GrpcCode.Aborted,
  [ErrorKind.Internal]: GrpcCode.Internal,
};

const codeToKind = new Map<number, ErrorKind>(
  Object.entries(kindToCode).map(([k, c]) => [c, k as ErrorKind]),
);

export function kindToGrpcCode(kind: ErrorKind): number {
  return kindToCode[kind];
}

export function grpcCodeToKind(code: number): ErrorKind {
  return codeToKind.get(code) ?? ErrorKind.Unknown;
}

/** Client edge: a gRPC/ttrpc status → ContainerdError of the matching kind. */
export function fromGrpcStatus(code: number, message: string): ContainerdError {
  return new ContainerdError(grpcCodeToKind(code), message);
}
