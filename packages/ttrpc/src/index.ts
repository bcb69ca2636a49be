export { TtrpcServer, type TtrpcServerOptions } from "./server.js";
export { ProtocolError } from "./server-connection.js";
export type { TtrpcCallContext, TtrpcServiceImpl, TtrpcUnaryImpl } from "./registry.js";
export {
  dialTtrpc,
  ClientConnection,
  socketPathOf,
  type TtrpcConnection,
  type TtrpcCallOptions,
} from "./client-connection.js";
export { createTtrpcClient, type TtrpcClient, type TtrpcClientDefaults } from "./client.js";
export type { MetadataInit } from "./metadata.js";
export type { PeerCredentials } from "./peercred.js";
export { getPeerCredentials } from "./peercred.js";
export {
  HEADER_LENGTH,
  MAX_PAYLOAD_LENGTH,
  MessageType,
  FrameDecoder,
  encodeFrame,
  encodeHeader,
  decodeHeader,
  type FrameHeader,
  type FrameEvent,
} from "./frame.js";
