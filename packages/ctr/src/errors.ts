import { fromConnectError } from "@containerd-ts/errdefs/grpc.js";

/** The server's message for a failed call (gRPC status message), else the error's own. */
export function errorMessage(err: unknown): string {
  const mapped = fromConnectError(err);
  return mapped instanceof Error ? mapped.message : String(mapped);
}
