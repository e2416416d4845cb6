export { MqttBroker, type PublishOptions } from './broker.js';
export type { BrokerOptions } from './core.js';
export { BrokerError, BrokerErrorCode, type BrokerErrorCodeValue } from './errors.js';
export type {
  BrokerConnectionInfo,
  BrokerEvents,
  ConnectionId,
  ConnectionRequestEvent,
  ConnectionStatusEvent,
  ErrorEvent,
  LogEvent,
  LogLevel,
  MessageEvent,
  MessageMetaEvent,
  MessageStatusEvent,
  PublishRequest,
  SessionRemovedEvent,
  SessionRequestEvent,
  SslClientAuthenticationEvent,
  SslStatusEvent,
  SubscribeEvent,
  UnsubscribeEvent,
} from './events.js';
export type {
  AuthorizePublishArgs,
  BrokerHook,
  DisconnectInfo,
  EnhancedAuthArgs,
  EnhancedAuthResult,
  InterceptPublishArgs,
  MaybePromise,
} from './hooks.js';
export { type BrokerLimits, DEFAULT_LIMITS, resolveLimits } from './limits.js';
export type { BrokerListenerInfo, BrokerListenerOptions } from './listeners.js';
export type { MessageInfo } from './message.js';
export type { SessionInfo, SessionJson, SessionJsonMessage } from './session-json.js';
export { BrokerStats } from './stats.js';
export { MemoryStorage } from './storage/memory.js';
export type {
  BrokerStorage,
  StorageOp,
  StoredIncoming,
  StoredMessage,
  StoredOutgoing,
  StoredSession,
  StoredSessionMeta,
  StoredSubscription,
  StoredWill,
} from './storage/types.js';
export {
  type IndexedSubscription,
  type MatchResult,
  type SharedGroup,
  type SubscriptionIndex,
  TopicTrie,
} from './subscription-index.js';
export { type ByteStream, type ListenerProtocol, PROTOCOL_NUMBERS, type StreamSink } from './transport.js';
