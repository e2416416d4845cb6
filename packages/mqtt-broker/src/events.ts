import type { X509Certificate } from 'node:crypto';
import type { PublishProperties, QoS, Subscription as SubscriptionRequest, UserProperties } from '@iotwire/mqtt-packet';
import type { CertificateVerdict } from '@iotwire/tls';
import type { ListenerProtocol } from './transport.js';

/** Connection ids are strings (shared with @iotwire/tcp-server). */
export type ConnectionId = string;

/** Who a connection is: passed to hooks and found in `broker.connections`. */
export interface BrokerConnectionInfo {
  readonly connectionId: ConnectionId;
  /** '' until CONNECT is processed. */
  readonly clientId: string;
  readonly userName: string;
  /** MQTT Keep Alive from CONNECT (seconds; the server's value when it overrides). */
  readonly keepAlive: number;
  /** 3 (3.1), 4 (3.1.1), 5 (5.0); 0 before CONNECT. */
  readonly protocolVersion: number;
  readonly protocol: ListenerProtocol;
  readonly localHost: string;
  readonly localPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
  /** The TLS client certificate, if one was presented. */
  readonly peerCertificate: X509Certificate | undefined;
  /** The user name was taken from the TLS client certificate (listener `certificateIdentity`). */
  readonly userNameFromCertificate: boolean;
}

export interface ConnectionRequestEvent {
  readonly address: string;
  readonly port: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly protocol: ListenerProtocol;
  /** Default true; false refuses the connection. */
  accept: boolean;
}

export interface ConnectionStatusEvent {
  readonly connectionId: ConnectionId;
  /** 0 on success / normal close; otherwise the system or TLS error number. */
  readonly statusCode: number;
  readonly description: string;
  /** Set on `disconnected` once CONNECT was processed. */
  readonly clientId: string;
}

/** `sessionRequest`: CONNECT arrived. Listeners (and `authenticate` hooks) decide. */
export interface SessionRequestEvent {
  readonly connectionId: ConnectionId;
  readonly clientId: string;
  readonly userName: string;
  readonly password: Buffer | undefined;
  /** The CONNECT Clean Session / Clean Start flag. */
  readonly isNew: boolean;
  readonly protocolVersion: number;
  readonly connection: BrokerConnectionInfo;
  /** MQTT 5 CONNECT user properties. */
  readonly userProperties: UserProperties | undefined;
  /** Default true; false refuses with `reasonCode` (default: not authorized, 0x87 / 3.1.1 0x05). */
  accept: boolean;
  /** MQTT 5 reason code for a refusal (0x80-0x9F); mapped to the 3.1.1 return code for older clients. */
  reasonCode: number | undefined;
  /** MQTT 5 reason string for a refusal. */
  reasonString: string | undefined;
}

/** `subscribe`: one per topic filter of a SUBSCRIBE; `returnCode` starts at the requested QoS. */
export interface SubscribeEvent {
  readonly connectionId: ConnectionId;
  readonly clientId: string;
  /** The subscriber's user name ('' when anonymous). */
  readonly userName: string;
  readonly topicFilter: string;
  readonly requestedQoS: QoS;
  readonly options: Readonly<SubscriptionRequest>;
  readonly subscriptionIdentifier: number | undefined;
  /** 0, 1, 2 grant that maximum QoS; >= 0x80 refuses (0x87 not authorized, 0x80 unspecified …). */
  returnCode: number;
}

export interface UnsubscribeEvent {
  readonly connectionId: ConnectionId;
  readonly clientId: string;
  readonly topicFilter: string;
}

export interface MessageEvent {
  readonly connectionId: ConnectionId;
  readonly clientId: string;
  readonly messageId: number;
}

export interface MessageMetaEvent extends MessageEvent {
  readonly topic: string;
  readonly dup: boolean;
  readonly qos: QoS;
  readonly retain: boolean;
  /** -1 for QoS 0. */
  readonly packetId: number;
}

/** States: outgoing 1-5, incoming 6-9, 10 done (see the README). */
export interface MessageStatusEvent extends MessageMetaEvent {
  readonly state: number;
}

export interface SessionRemovedEvent {
  readonly clientId: string;
}

export interface SslClientAuthenticationEvent {
  readonly connectionId: ConnectionId;
  /** PEM of the client certificate. */
  readonly certEncoded: string;
  /** DER of the client certificate. */
  readonly certEncodedB: Buffer;
  readonly certSubject: string;
  readonly certIssuer: string;
  /** 'OK' or why verification failed. */
  readonly status: string;
  readonly verdict: CertificateVerdict;
  /** Pre-set to the verification result; false closes the connection. */
  accept: boolean;
}

export interface SslStatusEvent {
  readonly connectionId: ConnectionId;
  readonly message: string;
}

/** 0 None, 1 Info, 2 Verbose, 3 Debug. */
export type LogLevel = 0 | 1 | 2 | 3;

export interface LogEvent {
  readonly connectionId: ConnectionId;
  readonly logLevel: LogLevel;
  readonly message: string;
  /** 'Info' general, 'Session' session status, 'Frame' packets. */
  readonly logType: 'Info' | 'Session' | 'Frame';
}

export interface ErrorEvent {
  /** '' when no connection is concerned. */
  readonly connectionId: ConnectionId;
  readonly errorCode: number;
  readonly description: string;
  readonly error: Error;
}

/** Every broker event, typed. */
export interface BrokerEvents {
  connectionRequest: [event: ConnectionRequestEvent];
  connected: [event: ConnectionStatusEvent];
  disconnected: [event: ConnectionStatusEvent];
  sessionRequest: [event: SessionRequestEvent];
  subscribe: [event: SubscribeEvent];
  unsubscribe: [event: UnsubscribeEvent];
  messageReceiving: [event: MessageMetaEvent];
  messageReceived: [event: MessageEvent];
  incomingMessageStatus: [event: MessageStatusEvent];
  messageSending: [event: MessageMetaEvent];
  messageSent: [event: MessageEvent];
  outgoingMessageStatus: [event: MessageStatusEvent];
  sessionRemoved: [event: SessionRemovedEvent];
  sslClientAuthentication: [event: SslClientAuthenticationEvent];
  sslStatus: [event: SslStatusEvent];
  log: [event: LogEvent];
  error: [event: ErrorEvent];
}

/** A PUBLISH as seen by `authorizePublish` / `onPublish` hooks; the fields may be changed by `onPublish`. */
export interface PublishRequest {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: PublishProperties | undefined;
}
