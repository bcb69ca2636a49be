import { Code, ConnectError } from "@connectrpc/connect";
import { ContainerdError } from "./errors.js";
import { fromGrpcStatus, kindToGrpcCode } from "./codes.js";

/** Server edge: any thrown value → ConnectError with containerd's gRPC code. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ContainerdError) {
    return new ConnectError(err.message, kindToGrpcCode(err.kind) as Code);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new ConnectError(msg, Code.Unknown);
}

/** Client edge: a ConnectError → ContainerdError of the matching kind; other values pass through. */
export function fromConnectError(err: unknown): unknown {
  if (err instanceof ConnectError) return fromGrpcStatus(err.code, err.rawMessage);
  return err;
}
