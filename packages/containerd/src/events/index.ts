export {
  EventExchange,
  envelopeAdaptor,
  nowTimestamp,
  type EventInit,
  type HistoryQuery,
  type SubscribeOptions,
} from "./exchange.js";
export { eventAny, eventRegistry, payloadAdaptor } from "./payload.js";
export { Subscription } from "./subscription.js";
export { validateTopic } from "./topics.js";
