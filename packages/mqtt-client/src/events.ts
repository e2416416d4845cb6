import type { AckProperties, ConnackProperties, DisconnectProperties } from '@iotwire/mqtt-packet';
import type { MqttClientError } from './errors.js';
import type { MqttMessage } from './message.js';
import type { LogLevel } from './options.js';
import type { ConnectionState } from './state.js';

/** `connected` event: the outcome of a connection attempt (fired on failure too, as the toolkit does). */
export interface ConnectedEvent {
  /** 0 on success; otherwise the CONNACK code, or the error's toolkit number. */
  statusCode: number;
  description: string;
  sessionPresent: boolean;
  /** CONNACK reason/return code (undefined when no CONNACK arrived). */
  reasonCode: number | undefined;
  properties: ConnackProperties | undefined;
  /** True for an automatic reconnection. */
  reconnect: boolean;
  error?: MqttClientError;
}

export interface DisconnectedEvent {
  /** 0 for a normal close (disconnect(), or a server DISCONNECT 0x00); else the error's number. */
  statusCode: number;
  description: string;
  /** Reason code of the DISCONNECT the server sent, or of the one we sent. */
  reasonCode: number | undefined;
  /** Properties of the server's DISCONNECT (reason string, server reference, user properties). */
  properties: DisconnectProperties | undefined;
  error?: MqttClientError;
  /** Whether a reconnection is scheduled. */
  willReconnect: boolean;
}

export interface ConnectionStatusEvent {
  /** `remoteHostConnected`, `sslHandshakeComplete`, `mqttConnected`, `remoteHostDisconnected`. */
  connectionEvent: string;
  statusCode: number;
  description: string;
}

export interface MessageAckEvent {
  packetId: number;
  /** 0 outgoing (we published), 1 incoming (the server did). */
  direction: 0 | 1;
  /** Position in outgoingMessages/incomingMessages during this handler. */
  index: number;
  /** Reason code of the final ack (0 in 3.1.1). */
  responseCode: number;
  message: MqttMessage;
  properties?: AckProperties;
}

export interface SubscribedEvent {
  topicFilter: string;
  /** Granted QoS (when responseCode < 0x80). */
  qos: number;
  /** SUBACK code: 0..2 granted QoS, >= 0x80 failure. */
  responseCode: number;
  reasonString?: string;
  /** True when re-issued automatically after a lost session. */
  restored: boolean;
}

export interface UnsubscribedEvent {
  /** The filters of the call, verbatim. */
  topicFilters: string[];
  /** The first failing reason code, else 0 (the toolkit's single code). */
  responseCode: number;
  /** MQTT 5: one code per filter; 3.1.1: all 0. */
  reasonCodes: number[];
}

export interface LogEvent {
  logLevel: LogLevel;
  message: string;
  logType: 'Info' | 'Packet' | 'Reconnect' | 'Session';
}

/** The server-certificate verdict (from @iotwire/tls in Node); set `accept` to decide. */
export interface ServerCertificateVerdict {
  readonly status: string;
  accept: boolean;
  readonly certEncoded?: string;
  readonly subject?: string;
  readonly issuer?: string;
}

export interface MqttClientEvents {
  connected: (e: ConnectedEvent) => void;
  connectionStatus: (e: ConnectionStatusEvent) => void;
  disconnected: (e: DisconnectedEvent) => void;
  messageIn: (message: MqttMessage) => void;
  messageOut: (message: MqttMessage) => void;
  messageAck: (e: MessageAckEvent) => void;
  subscribed: (e: SubscribedEvent) => void;
  unsubscribed: (e: UnsubscribedEvent) => void;
  readyToSend: () => void;
  log: (e: LogEvent) => void;
  error: (err: MqttClientError) => void;
  sslServerAuthentication: (verdict: ServerCertificateVerdict) => void;
  sslStatus: (e: { message: string }) => void;
  stateChange: (e: { from: ConnectionState; to: ConnectionState }) => void;
}
