import type { PacketTypeName, ProtocolVersion } from './constants.js';

/** Every MQTT 5.0 reason code (§2.4 Table 2-6). Some values have several names by packet type. */
export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQoS0: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWillMessage: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

/** MQTT 3.1 / 3.1.1 CONNACK return codes (3.1.1 §3.2.2.3 Table 3.1). */
export const ConnackReturnCode = {
  Accepted: 0x00,
  UnacceptableProtocolVersion: 0x01,
  IdentifierRejected: 0x02,
  ServerUnavailable: 0x03,
  BadUserNameOrPassword: 0x04,
  NotAuthorized: 0x05,
} as const;

/** MQTT 3.1 / 3.1.1 SUBACK return codes (3.1.1 §3.9.3). */
export const SubackReturnCode = {
  MaximumQoS0: 0x00,
  MaximumQoS1: 0x01,
  MaximumQoS2: 0x02,
  Failure: 0x80,
} as const;

/** Human names of the MQTT 5.0 reason codes (generic; see {@link reasonCodeName} for per-packet names). */
export const REASON_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'Success',
  1: 'Granted QoS 1',
  2: 'Granted QoS 2',
  4: 'Disconnect with Will Message',
  16: 'No matching subscribers',
  17: 'No subscription existed',
  24: 'Continue authentication',
  25: 'Re-authenticate',
  128: 'Unspecified error',
  129: 'Malformed Packet',
  130: 'Protocol Error',
  131: 'Implementation specific error',
  132: 'Unsupported Protocol Version',
  133: 'Client Identifier not valid',
  134: 'Bad User Name or Password',
  135: 'Not authorized',
  136: 'Server unavailable',
  137: 'Server busy',
  138: 'Banned',
  139: 'Server shutting down',
  140: 'Bad authentication method',
  141: 'Keep Alive timeout',
  142: 'Session taken over',
  143: 'Topic Filter invalid',
  144: 'Topic Name invalid',
  145: 'Packet Identifier in use',
  146: 'Packet Identifier not found',
  147: 'Receive Maximum exceeded',
  148: 'Topic Alias invalid',
  149: 'Packet too large',
  150: 'Message rate too high',
  151: 'Quota exceeded',
  152: 'Administrative action',
  153: 'Payload format invalid',
  154: 'Retain not supported',
  155: 'QoS not supported',
  156: 'Use another server',
  157: 'Server moved',
  158: 'Shared Subscriptions not supported',
  159: 'Connection rate exceeded',
  160: 'Maximum connect time',
  161: 'Subscription Identifiers not supported',
  162: 'Wildcard Subscriptions not supported',
};

/** Human names of the 3.1/3.1.1 CONNACK return codes. */
export const CONNACK_RETURN_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'Connection Accepted',
  1: 'Connection Refused, unacceptable protocol version',
  2: 'Connection Refused, identifier rejected',
  3: 'Connection Refused, Server unavailable',
  4: 'Connection Refused, bad user name or password',
  5: 'Connection Refused, not authorized',
};

/** Human names of the 3.1/3.1.1 SUBACK return codes. */
export const SUBACK_RETURN_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'Success - Maximum QoS 0',
  1: 'Success - Maximum QoS 1',
  2: 'Success - Maximum QoS 2',
  128: 'Failure',
};

function table(codes: number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of codes) t[c] = 1;
  return t;
}

/** MQTT 5 reason codes valid in each packet type (the §3.x "Reason Code values" tables). */
const V5_VALID: Partial<Record<PacketTypeName, Uint8Array>> = {
  connack: table([
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f,
  ]),
  puback: table([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  pubrec: table([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  pubrel: table([0x00, 0x92]),
  pubcomp: table([0x00, 0x92]),
  suback: table([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]),
  unsuback: table([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]),
  disconnect: table([
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b,
    0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
  ]),
  auth: table([0x00, 0x18, 0x19]),
};
const V4_CONNACK = table([0, 1, 2, 3, 4, 5]);
const V4_SUBACK = table([0, 1, 2, 0x80]);

/**
 * Whether `code` is a valid reason (or return) code for `packetType` at `version`
 * ([MQTT-3.2.2-8], [MQTT-3.4.2-1], [MQTT-3.9.3-2], [MQTT-3.14.2-1], [MQTT-3.15.2-1], …).
 */
export function isValidReasonCode(packetType: PacketTypeName, code: number, version: ProtocolVersion = 5): boolean {
  if (version !== 5) {
    if (packetType === 'connack') return V4_CONNACK[code] === 1;
    if (packetType === 'suback') return V4_SUBACK[code] === 1;
    return false;
  }
  const t = V5_VALID[packetType];
  return t !== undefined && t[code] === 1;
}

/** The reason codes valid for `packetType` in MQTT 5 (empty for types without one). */
export function reasonCodesFor(packetType: PacketTypeName, version: ProtocolVersion = 5): number[] {
  const out: number[] = [];
  for (let c = 0; c < 256; c++) if (isValidReasonCode(packetType, c, version)) out.push(c);
  return out;
}

/**
 * The human name of a reason/return code as used in `packetType` (e.g. 0x00 is "Normal
 * disconnection" in DISCONNECT and "Granted QoS 0" in SUBACK); `undefined` for unknown codes.
 */
export function reasonCodeName(code: number, packetType?: PacketTypeName, version: ProtocolVersion = 5): string | undefined {
  if (version !== 5) {
    if (packetType === 'connack') return CONNACK_RETURN_CODE_NAMES[code];
    if (packetType === 'suback') return SUBACK_RETURN_CODE_NAMES[code];
  }
  if (code === 0x00) {
    if (packetType === 'disconnect') return 'Normal disconnection';
    if (packetType === 'suback') return 'Granted QoS 0';
  }
  return REASON_CODE_NAMES[code];
}

/**
 * Maps an MQTT 5 Connect Reason Code (>= 0x80) to the closest 3.1/3.1.1 CONNACK return code;
 * codes below 0x80 pass through unchanged. Lets a broker build one CONNACK for either version.
 */
export function connackReturnCodeFor(reasonCode: number): number {
  if (reasonCode < 0x80) return reasonCode; // 0..5 are already return codes; others stay invalid
  switch (reasonCode) {
    case 0x84:
      return ConnackReturnCode.UnacceptableProtocolVersion;
    case 0x85:
      return ConnackReturnCode.IdentifierRejected;
    case 0x86:
      return ConnackReturnCode.BadUserNameOrPassword;
    case 0x87:
    case 0x8a:
    case 0x8c:
      return ConnackReturnCode.NotAuthorized;
    default:
      return ConnackReturnCode.ServerUnavailable;
  }
}

/** Maps an MQTT 5 SUBACK reason code to 3.1/3.1.1: granted QoS passes, any failure becomes 0x80. */
export function subackReturnCodeFor(reasonCode: number): number {
  return reasonCode >= 0x80 ? SubackReturnCode.Failure : reasonCode;
}
