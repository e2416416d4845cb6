export { type AclAccess, AclFile, type AclHook, aclAuthorization, filterCovers, filtersOverlap } from './auth/acl-file.js';
export { certificateUserName } from './auth/certificate-identity.js';
export {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  hashProblem,
  PasswordFile,
  type PasswordFileAuthOptions,
  type PasswordFileHook,
  passwordFileAuth,
  type ScryptCost,
  verifyPasswordHash,
} from './auth/password-file.js';
export { MqttBroker, type PublishOptions } from './broker.js';
export type { ClusterOptions } from './cluster/options.js';
export { RedisStorage, type RedisStorageOptions } from './cluster/redis-storage.js';
export type { ClusterFigures } from './cluster/sys.js';
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
  AuthorizeDeliveryArgs,
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
export { METRICS_CONTENT_TYPE, type MetricsOptions, renderMetrics } from './metrics.js';
export { LIVE_LIMITS, LIVE_OPTIONS, RESTART_OPTIONS, type UpdateOptionsResult } from './reconfigure.js';
export type { SessionInfo, SessionJson, SessionJsonMessage } from './session-json.js';
export { BrokerStats } from './stats.js';
export {
  type CorruptionPolicy,
  createDurableStorage,
  type DurableStorageOptions,
  StorageCorruptionError,
} from './storage/durable.js';
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
export {
  BROKER_VERSION,
  type BrokerFigures,
  collectBrokerFigures,
  LoadAverage,
  SysTopics,
  type SysTopicsOptions,
} from './sys-topics.js';
export { type ByteStream, type CertificateIdentity, type ListenerProtocol, PROTOCOL_NUMBERS, type StreamSink } from './transport.js';
