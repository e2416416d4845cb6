import type { PacketTypeName, ProtocolVersion } from './constants.js';

/**
 * Stable error codes. Each decode error names the normative statement it enforces in the
 * message; `reasonCode` is the MQTT 5 reason code to send in CONNACK/DISCONNECT (a 3.1/3.1.1
 * peer is simply disconnected, or gets the matching CONNACK return code for CONNECT errors).
 */
export const ErrorCode = {
  /** Remaining Length or a property Variable Byte Integer has a fifth byte. 0x81. */
  VarintTooLong: 'ERR_VARINT_TOO_LONG',
  /** Variable Byte Integer not in its shortest form [MQTT-1.5.5-1]. 0x81. */
  VarintNotMinimal: 'ERR_VARINT_NOT_MINIMAL',
  /** Value out of range for a Variable Byte Integer (encoding). */
  VarintRange: 'ERR_VARINT_RANGE',
  /** Packet larger than the configured maximum. 0x95. */
  PacketTooLarge: 'ERR_PACKET_TOO_LARGE',
  /** Packet type 0 (reserved), or AUTH below MQTT 5. 0x81. */
  ReservedPacketType: 'ERR_RESERVED_PACKET_TYPE',
  /** Reserved fixed-header flag bits not as required [MQTT-2.2.2-1]/[MQTT-2.1.3-1]. 0x81. */
  HeaderFlags: 'ERR_HEADER_FLAGS',
  /** QoS 3 (PUBLISH, Will QoS, subscription options) [MQTT-3.3.1-4]. 0x81. */
  QosInvalid: 'ERR_QOS_INVALID',
  /** DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]. 0x81. */
  DupQos0: 'ERR_DUP_QOS0',
  /** A field runs past the end of the packet. 0x81. */
  Truncated: 'ERR_TRUNCATED',
  /** Bytes left after the last field of the packet. 0x81. */
  TrailingBytes: 'ERR_TRAILING_BYTES',
  /** Ill-formed UTF-8, including surrogates [MQTT-1.5.3-1]/[MQTT-1.5.4-1]. 0x81. */
  Utf8Invalid: 'ERR_UTF8_INVALID',
  /** U+0000 in a UTF-8 string [MQTT-1.5.3-2]/[MQTT-1.5.4-2]. 0x81. */
  Utf8Null: 'ERR_UTF8_NULL',
  /** String longer than 65,535 bytes, or binary data longer than 65,535 bytes (encoding). */
  StringTooLong: 'ERR_STRING_TOO_LONG',
  /** Protocol name is not `MQTT`/`MQIsdp`, or does not match the level [MQTT-3.1.2-1]. 0x84. */
  ProtocolName: 'ERR_PROTOCOL_NAME',
  /** Protocol level is not 3, 4 or 5 [MQTT-3.1.2-2]. 0x84 (3.1.1 return code 0x01). */
  UnsupportedProtocolVersion: 'ERR_UNSUPPORTED_PROTOCOL_VERSION',
  /** CONNECT flags: reserved bit, Will flag/QoS/Retain, or User Name/Password flags. 0x81. */
  ConnectFlags: 'ERR_CONNECT_FLAGS',
  /** Zero-length Client Identifier where not allowed [MQTT-3.1.3-8]. 0x85 (return code 0x02). */
  ClientIdInvalid: 'ERR_CLIENT_ID_INVALID',
  /** CONNACK flag bits 7-1 not zero [MQTT-3.2.2-1]. 0x81. */
  ConnackFlags: 'ERR_CONNACK_FLAGS',
  /** Session Present set with a failing return/reason code [MQTT-3.2.2-4]/[MQTT-3.2.2-6]. 0x82. */
  SessionPresent: 'ERR_SESSION_PRESENT',
  /** Wildcard, empty or otherwise invalid Topic Name [MQTT-3.3.2-2] [MQTT-4.7.3-1]. 0x90. */
  TopicNameInvalid: 'ERR_TOPIC_NAME_INVALID',
  /** Malformed Topic Filter (3.1.1 [MQTT-4.7.1-2] [MQTT-4.7.1-3]; 5.0 [MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.8.2-1]). 0x8F. */
  TopicFilterInvalid: 'ERR_TOPIC_FILTER_INVALID',
  /** Zero-length Topic Name with no Topic Alias (MQTT 5 §3.3.2.1). 0x82. */
  TopicNameEmpty: 'ERR_TOPIC_NAME_EMPTY',
  /** Packet Identifier 0 where a non-zero one is required [MQTT-2.3.1-1]/[MQTT-2.2.1-3]. 0x82. */
  PacketIdZero: 'ERR_PACKET_ID_ZERO',
  /** Reason/return code not in the table for this packet type. 0x82. */
  ReasonCodeInvalid: 'ERR_REASON_CODE_INVALID',
  /** Unknown property identifier (MQTT 5 §2.2.2.2). 0x81. */
  PropertyUnknown: 'ERR_PROPERTY_UNKNOWN',
  /** Property not valid for this packet type (MQTT 5 §2.2.2.2). 0x81. */
  PropertyNotAllowed: 'ERR_PROPERTY_NOT_ALLOWED',
  /** Property that must appear at most once appears twice. 0x82. */
  PropertyDuplicate: 'ERR_PROPERTY_DUPLICATE',
  /** Property value out of its range (0 where forbidden, byte not 0/1, …). 0x82. */
  PropertyValue: 'ERR_PROPERTY_VALUE',
  /** Authentication Data without Authentication Method (§3.1.2.11.10). 0x82. */
  AuthDataWithoutMethod: 'ERR_AUTH_DATA_WITHOUT_METHOD',
  /** SUBSCRIBE/UNSUBSCRIBE/SUBACK/UNSUBACK with an empty payload (3.1.1 [MQTT-3.8.3-3]; 5.0 [MQTT-3.8.3-2]; [MQTT-3.10.3-2]). 0x82. */
  EmptyPayload: 'ERR_EMPTY_PAYLOAD',
  /** Reserved bits set in Subscription Options [MQTT-3-8.3-4]/[MQTT-3.8.3-5]. 0x81. */
  SubscriptionOptions: 'ERR_SUBSCRIPTION_OPTIONS',
  /** Retain Handling 3 (§3.8.3.1). 0x82. */
  RetainHandling: 'ERR_RETAIN_HANDLING',
  /** No Local on a Shared Subscription [MQTT-3.8.3-4]. 0x82. */
  NoLocalShared: 'ERR_NO_LOCAL_SHARED',
  /** A packet this side must never receive (e.g. CONNACK at a server, or a second CONNECT). 0x82. */
  UnexpectedPacket: 'ERR_UNEXPECTED_PACKET',
  /** Encoder input that cannot be represented (wrong type, out of range, missing field). */
  InvalidArgument: 'ERR_INVALID_ARGUMENT',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * A typed codec error. `code` is stable; `reasonCode` is the MQTT 5 reason code to answer with
 * (0x81 Malformed Packet, 0x82 Protocol Error, 0x95 Packet Too Large, …). `packetType` and
 * `protocolVersion` are set when known, so a server can choose between closing silently and
 * sending a CONNACK (e.g. return code 0x01 for an unsupported 3.1.1 protocol level).
 */
export class MqttPacketError extends Error {
  override readonly name = 'MqttPacketError';
  packetType: PacketTypeName | undefined;
  protocolVersion: ProtocolVersion | undefined;
  constructor(
    readonly code: ErrorCodeValue,
    readonly reasonCode: number,
    message: string,
    packetType?: PacketTypeName,
    protocolVersion?: ProtocolVersion,
  ) {
    super(message);
    this.packetType = packetType;
    this.protocolVersion = protocolVersion;
  }
}

/** Shorthand used across the codec: a Malformed Packet (0x81) error. */
export function malformed(code: ErrorCodeValue, message: string): MqttPacketError {
  return new MqttPacketError(code, 0x81, message);
}

/** Shorthand: a Protocol Error (0x82). */
export function protocolError(code: ErrorCodeValue, message: string): MqttPacketError {
  return new MqttPacketError(code, 0x82, message);
}

/** Shorthand for encoder input errors. */
export function invalidArgument(message: string): MqttPacketError {
  return new MqttPacketError(ErrorCode.InvalidArgument, 0x80, message);
}
