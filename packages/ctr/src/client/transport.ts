import * as net from "node:net";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

/** The metadata header that selects the namespace of every containerd call. */
export const NAMESPACE_HEADER = "containerd-namespace";
/** The metadata header that puts a call's resources under a lease. */
export const LEASE_HEADER = "containerd-lease";

export interface TransportOptions {
  /** Unix socket path, or `unix://PATH`. */
  address: string;
  namespace: string;
}

export interface ClientTransport {
  transport: Transport;
  /** Closes the HTTP/2 session so the process can exit. */
  close(): void;
}

/** `unix:///run/x.sock` and `/run/x.sock` both name the same socket. */
export function socketPathOf(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}

/**
 * gRPC over HTTP/2 cleartext (prior knowledge) on a unix socket, like grpc-go in ctr:
 * `:authority localhost`, no compression, the namespace header on every call.
 */
export function createClientTransport(opts: TransportOptions): ClientTransport {
  const socketPath = socketPathOf(opts.address);
  const sessionManager = new Http2SessionManager(
    "http://localhost",
    { idleConnectionTimeoutMs: 2 ** 31 - 1 },
    { createConnection: () => net.connect(socketPath) },
  );
  const withNamespace: Interceptor = (next) => (req) => {
    if (!req.header.has(NAMESPACE_HEADER)) req.header.set(NAMESPACE_HEADER, opts.namespace);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl: "http://localhost",
    sessionManager,
    interceptors: [withNamespace],
    acceptCompression: [],
  });
  return { transport, close: () => sessionManager.abort() };
}
