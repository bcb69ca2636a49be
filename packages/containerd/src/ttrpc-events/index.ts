export { EventsTtrpcServer, type EventForwarder, type ForwardedEnvelope } from "./server.js";
export { ExitDeduper } from "./dedupe.js";
