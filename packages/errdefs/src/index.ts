export * from "./errors.js";
export * from "./grpc.js";
export * from "./identifiers.js";
