// Platform-neutral public API, shared by the Node and browser entries.
export type { AuthChallenge, EnhancedAuth } from './auth.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export {
  type ConnectedEvent,
  type ConnectionStatusEvent,
  type ConnectResult,
  type DisconnectedEvent,
  type DisconnectOptions,
  type LogEvent,
  type MessageAckEvent,
  MqttClientBase,
  type MqttClientEvents,
  type PublishOptions,
  type PublishResult,
  type RequestOptions,
  type ServerCertificateVerdict,
  type SubscribedEvent,
  type SubscribeOptions,
  type SubscribeResult,
  type SubscriptionRequest,
  type UnsubscribedEvent,
  type UnsubscribeOptions,
} from './client.js';
export { type Clock, systemClock } from './clock.js';
export { Completion } from './completion.js';
export { CONFIG_SETTING_NAMES, parseBool } from './config-shim.js';
export { TypedEmitter } from './emitter.js';
export { ClientErrorCode, type ClientErrorCodeValue, MqttClientError, TOOLKIT_ERROR_NUMBERS } from './errors.js';
export { KeepAlive, type KeepAliveHooks } from './keep-alive.js';
export { MessageState, type MessageStateValue, MqttMessage } from './message.js';
export type { BaseClientOptions, LogLevel, WillOptions } from './options.js';
export { BoundedQueue, type OverflowPolicy, type QueueOptions } from './outbound-queue.js';
export { PacketIdAllocator } from './packet-ids.js';
export {
  bypassesProxy,
  DEFAULT_PROXY_PORTS,
  type Env,
  type ProxyException,
  type ProxyOptions,
  type ProxySetting,
  type ProxyType,
  parseExceptions,
  proxyFromEnv,
  proxyFromUrl,
  type ResolvedProxy,
  resolveProxy,
  selectProxy,
} from './proxy-config.js';
export { type ReconnectOptions, ReconnectPolicy } from './reconnect.js';
export { parseSession, type SessionSnapshot, type SessionStore, type StoredMessage } from './session.js';
export type { ConnectionState } from './state.js';
export type { SubscriptionRecord } from './subscriptions.js';
export { TokenBucket } from './token-bucket.js';
export { IncomingTopicAliases, OutgoingTopicAliases } from './topic-alias.js';
export { ThrottledStream, throttle } from './transport/throttled.js';
export type { ByteStream, Connector, ConnectReporter, StreamHandlers, TlsInfo } from './transport/types.js';
export { DEFAULT_PORTS, parseUrl, type Target, type TransportProtocol } from './url.js';
