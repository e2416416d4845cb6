import type { ProtocolVersion, QoS } from './constants.js';

/**
 * User Property (0x26) pairs in wire order. Order and duplicates are preserved: the spec
 * requires both [MQTT-3.3.2-17] [MQTT-3.3.2-18].
 */
export type UserProperties = [name: string, value: string][];

/**
 * Every MQTT 5.0 property (§2.2.2.2). Each packet type accepts a subset: see the per-packet
 * property interfaces below and {@link isPropertyAllowed}. Binary values are `Uint8Array`
 * (decoded values are `Buffer` views).
 */
export interface Properties {
  /** 0x01 byte: 0 = unspecified bytes, 1 = UTF-8 payload. PUBLISH, Will. */
  payloadFormatIndicator?: 0 | 1;
  /** 0x02 four-byte integer, seconds. PUBLISH, Will. */
  messageExpiryInterval?: number;
  /** 0x03 UTF-8 string. PUBLISH, Will. */
  contentType?: string;
  /** 0x08 UTF-8 string, a Topic Name (no wildcards). PUBLISH, Will. */
  responseTopic?: string;
  /** 0x09 binary. PUBLISH, Will. */
  correlationData?: Uint8Array;
  /** 0x0B variable byte integer 1..268,435,455, may repeat on PUBLISH (server to client). */
  subscriptionIdentifiers?: number[];
  /** 0x0B variable byte integer 1..268,435,455, at most once on SUBSCRIBE. */
  subscriptionIdentifier?: number;
  /** 0x11 four-byte integer, seconds. CONNECT, CONNACK, DISCONNECT. */
  sessionExpiryInterval?: number;
  /** 0x12 UTF-8 string. CONNACK. */
  assignedClientIdentifier?: string;
  /** 0x13 two-byte integer, seconds. CONNACK. */
  serverKeepAlive?: number;
  /** 0x15 UTF-8 string. CONNECT, CONNACK, AUTH. */
  authenticationMethod?: string;
  /** 0x16 binary. CONNECT, CONNACK, AUTH. */
  authenticationData?: Uint8Array;
  /** 0x17 byte 0/1. CONNECT. */
  requestProblemInformation?: boolean;
  /** 0x18 four-byte integer, seconds. Will. */
  willDelayInterval?: number;
  /** 0x19 byte 0/1. CONNECT. */
  requestResponseInformation?: boolean;
  /** 0x1A UTF-8 string. CONNACK. */
  responseInformation?: string;
  /** 0x1C UTF-8 string. CONNACK, DISCONNECT. */
  serverReference?: string;
  /** 0x1F UTF-8 string. CONNACK, acks, SUBACK, UNSUBACK, DISCONNECT, AUTH. */
  reasonString?: string;
  /** 0x21 two-byte integer 1..65,535. CONNECT, CONNACK. */
  receiveMaximum?: number;
  /** 0x22 two-byte integer. CONNECT, CONNACK. */
  topicAliasMaximum?: number;
  /** 0x23 two-byte integer 1..65,535. PUBLISH. */
  topicAlias?: number;
  /** 0x24 byte 0/1. CONNACK. */
  maximumQoS?: 0 | 1;
  /** 0x25 byte 0/1. CONNACK. */
  retainAvailable?: boolean;
  /** 0x26 string pairs, any number, order kept. Every packet with properties. */
  userProperties?: UserProperties;
  /** 0x27 four-byte integer 1..4,294,967,295. CONNECT, CONNACK. */
  maximumPacketSize?: number;
  /** 0x28 byte 0/1. CONNACK. */
  wildcardSubscriptionAvailable?: boolean;
  /** 0x29 byte 0/1. CONNACK. */
  subscriptionIdentifiersAvailable?: boolean;
  /** 0x2A byte 0/1. CONNACK. */
  sharedSubscriptionAvailable?: boolean;
}

/** CONNECT properties (§3.1.2.11). */
export type ConnectProperties = Pick<
  Properties,
  | 'sessionExpiryInterval'
  | 'receiveMaximum'
  | 'maximumPacketSize'
  | 'topicAliasMaximum'
  | 'requestResponseInformation'
  | 'requestProblemInformation'
  | 'userProperties'
  | 'authenticationMethod'
  | 'authenticationData'
>;

/** Will properties (§3.1.3.2). */
export type WillProperties = Pick<
  Properties,
  | 'willDelayInterval'
  | 'payloadFormatIndicator'
  | 'messageExpiryInterval'
  | 'contentType'
  | 'responseTopic'
  | 'correlationData'
  | 'userProperties'
>;

/** CONNACK properties (§3.2.2.3). */
export type ConnackProperties = Pick<
  Properties,
  | 'sessionExpiryInterval'
  | 'receiveMaximum'
  | 'maximumQoS'
  | 'retainAvailable'
  | 'maximumPacketSize'
  | 'assignedClientIdentifier'
  | 'topicAliasMaximum'
  | 'reasonString'
  | 'userProperties'
  | 'wildcardSubscriptionAvailable'
  | 'subscriptionIdentifiersAvailable'
  | 'sharedSubscriptionAvailable'
  | 'serverKeepAlive'
  | 'responseInformation'
  | 'serverReference'
  | 'authenticationMethod'
  | 'authenticationData'
>;

/** PUBLISH properties (§3.3.2.3). */
export type PublishProperties = Pick<
  Properties,
  | 'payloadFormatIndicator'
  | 'messageExpiryInterval'
  | 'topicAlias'
  | 'responseTopic'
  | 'correlationData'
  | 'userProperties'
  | 'subscriptionIdentifiers'
  | 'contentType'
>;

/** PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK properties. */
export type AckProperties = Pick<Properties, 'reasonString' | 'userProperties'>;

/** SUBSCRIBE properties (§3.8.2.1). */
export type SubscribeProperties = Pick<Properties, 'subscriptionIdentifier' | 'userProperties'>;

/** UNSUBSCRIBE properties (§3.10.2.1). */
export type UnsubscribeProperties = Pick<Properties, 'userProperties'>;

/** DISCONNECT properties (§3.14.2.2). */
export type DisconnectProperties = Pick<Properties, 'sessionExpiryInterval' | 'reasonString' | 'userProperties' | 'serverReference'>;

/** AUTH properties (§3.15.2.2). */
export type AuthProperties = Pick<Properties, 'authenticationMethod' | 'authenticationData' | 'reasonString' | 'userProperties'>;

/** The Will Message carried by CONNECT. */
export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 only. */
  properties?: WillProperties;
}

export interface ConnectPacket {
  type: 'connect';
  /** 3 (MQTT 3.1, protocol name `MQIsdp`), 4 (3.1.1) or 5 (5.0); the protocol name follows from it. */
  protocolVersion: ProtocolVersion;
  /**
   * Non-standard bridge bit (0x80 on the protocol level) sent by Mosquitto bridges. Decoded and
   * encoded so a broker can recognise bridges; it changes nothing else in the codec.
   */
  bridge?: boolean;
  /** Clean Session (3.1/3.1.1) or Clean Start (5.0). */
  clean: boolean;
  /** Keep Alive in seconds, 0..65,535. */
  keepAlive: number;
  clientId: string;
  will?: Will;
  username?: string;
  password?: Uint8Array;
  /** MQTT 5 only. */
  properties?: ConnectProperties;
}

export interface ConnackPacket {
  type: 'connack';
  sessionPresent: boolean;
  /**
   * MQTT 5 Connect Reason Code, or the 3.1/3.1.1 Connect Return Code (0..5, see
   * {@link ConnackReturnCode}). The encoder maps MQTT 5 codes (>= 0x80) to the nearest return
   * code when encoding for 3.1/3.1.1 ({@link connackReturnCodeFor}).
   */
  reasonCode: number;
  properties?: ConnackProperties;
}

export interface PublishPacket {
  type: 'publish';
  /** Topic Name; may be empty in MQTT 5 when `properties.topicAlias` is set. */
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Required (1..65,535) for QoS 1 and 2; absent for QoS 0 [MQTT-2.3.1-5]. */
  packetId?: number;
  properties?: PublishProperties;
}

interface AckBase {
  packetId: number;
  /** MQTT 5 reason code; decoded as 0 when omitted on the wire; ignored for 3.1/3.1.1. */
  reasonCode?: number;
  properties?: AckProperties;
}
export interface PubackPacket extends AckBase {
  type: 'puback';
}
export interface PubrecPacket extends AckBase {
  type: 'pubrec';
}
export interface PubrelPacket extends AckBase {
  type: 'pubrel';
}
export interface PubcompPacket extends AckBase {
  type: 'pubcomp';
}

/** One Topic Filter and its Subscription Options. */
export interface Subscription {
  topicFilter: string;
  /** Requested (maximum) QoS. */
  qos: QoS;
  /** MQTT 5 No Local; decoded as false for 3.1/3.1.1. */
  noLocal?: boolean;
  /** MQTT 5 Retain As Published; decoded as false for 3.1/3.1.1. */
  retainAsPublished?: boolean;
  /** MQTT 5 Retain Handling 0..2; decoded as 0 for 3.1/3.1.1. */
  retainHandling?: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: 'subscribe';
  packetId: number;
  subscriptions: Subscription[];
  properties?: SubscribeProperties;
}

export interface SubackPacket {
  type: 'suback';
  packetId: number;
  /** Granted QoS (0..2) or failure (>= 0x80) per filter, in SUBSCRIBE order. */
  reasonCodes: number[];
  properties?: AckProperties;
}

export interface UnsubscribePacket {
  type: 'unsubscribe';
  packetId: number;
  topicFilters: string[];
  properties?: UnsubscribeProperties;
}

export interface UnsubackPacket {
  type: 'unsuback';
  packetId: number;
  /** MQTT 5 reason code per filter; empty for 3.1/3.1.1 (which have no payload). */
  reasonCodes: number[];
  properties?: AckProperties;
}

export interface PingreqPacket {
  type: 'pingreq';
}

export interface PingrespPacket {
  type: 'pingresp';
}

export interface DisconnectPacket {
  type: 'disconnect';
  /** MQTT 5 reason code; decoded as 0 when omitted; ignored for 3.1/3.1.1. */
  reasonCode?: number;
  properties?: DisconnectProperties;
}

/** MQTT 5 only. */
export interface AuthPacket {
  type: 'auth';
  /** 0x00 Success, 0x18 Continue authentication, 0x19 Re-authenticate. */
  reasonCode: number;
  properties?: AuthProperties;
}

/** Every MQTT control packet, discriminated by `type`. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** The packet object for one type name. */
export type PacketOf<T extends Packet['type']> = Extract<Packet, { type: T }>;
