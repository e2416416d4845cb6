import type { ConnectProperties, PublishProperties, QoS, UserProperties, WillProperties } from '@iotwire/mqtt-packet';
import type { EnhancedAuth } from './auth.js';
import type { Clock } from './clock.js';
import type { QueueOptions } from './outbound-queue.js';
import type { ReconnectOptions } from './reconnect.js';
import type { SessionStore } from './session.js';

/** The Will Message (WillTopic, WillMessage, WillQOS, WillRetain, WillProperties). */
export interface WillOptions {
  topic: string;
  payload?: string | Uint8Array;
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 Will properties, including `willDelayInterval`. */
  properties?: WillProperties;
}

/** Log verbosity: 0 none, 1 info (default), 2 verbose, 3 debug (packet dumps, password masked). */
export type LogLevel = 0 | 1 | 2 | 3;

/** Options common to the Node and browser clients. Every default is listed. */
export interface BaseClientOptions {
  /** `mqtt://host:1883`, `mqtts://host:8883`, `ws://host/mqtt`, `wss://host/mqtt`. Overrides host/port. */
  url?: string;
  /** RemoteHost (may carry `ws://`/`wss://`). Default `localhost` when no url. */
  host?: string;
  /** RemotePort. Default per scheme: 1883, 8883 (secure), 80 (ws), 443 (wss). */
  port?: number;
  /** SSLEnabled for host/port connections. Default false (mqtts:// and wss:// imply true). */
  secure?: boolean;
  /** WebSocket path. Default `/mqtt`. */
  wsPath?: string;
  /** Protocol level: 4 = MQTT 3.1.1 (default, as the toolkit), 5 = MQTT 5.0. */
  protocolVersion?: 4 | 5;
  /**
   * Client Identifier. Default `''`: with clean true a unique id is generated; with clean
   * false MQTT 5 sends it empty and adopts the server's Assigned Client Identifier, 3.1.1
   * rejects the call (ERR_INVALID_ARGUMENT, the server would refuse with 0x02).
   */
  clientId?: string;
  /** CleanSession (3.1.1) / Clean Start (5.0). Default true. */
  clean?: boolean;
  /** Keep Alive in seconds, 0..65535; 0 disables. Default 60. */
  keepAlive?: number;
  /** How long to wait for PINGRESP, ms. Default: the keep-alive interval. */
  pingTimeoutMs?: number;
  username?: string;
  /** Password (binary allowed; 5.0 allows it without a username). */
  password?: string | Uint8Array;
  will?: WillOptions;
  /** MQTT 5 Session Expiry Interval, seconds. Default 0 (0xFFFFFFFF = never). */
  sessionExpiryInterval?: number;
  /** MQTT 5 Receive Maximum we announce (QoS 2 deliveries held at once). Default 65535. */
  receiveMaximum?: number;
  /** MQTT 5 Maximum Packet Size we accept. Default 268435460 (the protocol maximum). */
  maximumPacketSize?: number;
  /** MQTT 5 Topic Alias Maximum we accept from the server (ClientTopicAliasMax). Default 0. */
  topicAliasMaximum?: number;
  requestResponseInformation?: boolean;
  requestProblemInformation?: boolean;
  /** MQTT 5 CONNECT User Properties. */
  userProperties?: UserProperties;
  /** Outgoing topic aliases: `'auto'` (default) assigns them within the server's maximum, LRU. */
  topicAliases?: 'auto' | 'off';
  /** MQTT 5 enhanced authentication. */
  auth?: EnhancedAuth;
  /** Deadline for transport + TLS + WebSocket upgrade + CONNACK, ms. Default 30000; 0 = none. */
  connectTimeoutMs?: number;
  /** Auto-reconnect; `true` = defaults. Default off. */
  reconnect?: boolean | ReconnectOptions;
  /** Re-subscribe when a reconnect finds no session on the server (Session Present 0). Default true. */
  resubscribe?: boolean;
  /** Bounds of the outbound queue (offline, and beyond the server's Receive Maximum). */
  queue?: QueueOptions;
  /** Most QoS 1/2 messages in flight in 3.1.1 (5.0 uses the server's Receive Maximum). Default 65535. */
  maxInflight?: number;
  /** 3.1.1 RepublishInterval, seconds: resend unacknowledged PUBLISH (DUP). Default 0 (off); 5.0 never does. */
  republishInterval?: number;
  /** Where saveSession()/restoreSession() keep state (Node: `sessionStateFile`). */
  sessionStore?: SessionStore;
  /** Log verbosity for the `log` event. Default 1. */
  logLevel?: LogLevel;
  /** Default properties for every publish (the toolkit's sticky OutgoingMessageProperties). Per-call properties win. */
  defaultPublishProperties?: PublishProperties;
  /** Response topic for request(); default `<responseInformation or "responses">/<clientId>`. */
  responseTopic?: string;
  /** Default request() timeout, ms. Default 30000. */
  requestTimeoutMs?: number;
  /**
   * MaxTransferRate: outbound cap in bytes per second (token bucket, 100 ms burst). Writes are
   * delayed, never dropped; PINGREQ goes out ahead of the backlog at the next packet boundary.
   * Default 0 (unlimited).
   */
  maxTransferRate?: number;
  /** Injectable time source (tests). */
  clock?: Clock;
  /** Random source for jitter and generated ids (tests). */
  random?: () => number;
}

/** CONNECT properties built from the options. */
export function connectPropertiesOf(o: BaseClientOptions): ConnectProperties | undefined {
  const p: ConnectProperties = {};
  if (o.sessionExpiryInterval) p.sessionExpiryInterval = o.sessionExpiryInterval;
  if (o.receiveMaximum !== undefined && o.receiveMaximum !== 65_535) p.receiveMaximum = o.receiveMaximum;
  if (o.maximumPacketSize !== undefined) p.maximumPacketSize = o.maximumPacketSize;
  if (o.topicAliasMaximum) p.topicAliasMaximum = o.topicAliasMaximum;
  if (o.requestResponseInformation !== undefined) p.requestResponseInformation = o.requestResponseInformation;
  if (o.requestProblemInformation !== undefined) p.requestProblemInformation = o.requestProblemInformation;
  if (o.userProperties?.length) p.userProperties = o.userProperties;
  return Object.keys(p).length ? p : undefined;
}
