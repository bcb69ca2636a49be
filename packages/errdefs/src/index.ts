// The connect-es conversions live in "@containerd-ts/errdefs/grpc.js" so that importing the
// error vocabulary does not load @connectrpc/connect.
export * from "./errors.js";
export * from "./codes.js";
export * from "./identifiers.js";
