import { isUtf8 } from 'node:buffer';
import { PACKET_TYPE_NAMES, type PacketTypeName, type ProtocolVersion, REQUIRED_FLAGS } from './constants.js';
import { ErrorCode, MqttPacketError, malformed, protocolError } from './errors.js';
import { decodeProperties } from './properties.js';
import type { Reader } from './reader.js';
import { isValidReasonCode } from './reason-codes.js';
import { topicFilterProblem } from './topic.js';
import type {
  AckProperties,
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
  Will,
} from './types.js';
import { decodeUtf8, latin1Slice } from './utf8.js';

/** Which end of the connection decodes: enables direction checks. */
export type Side = 'server' | 'client';

/** Validation switches shared by {@link decode} and the streaming decoder. */
export interface DecodeOptions {
  /**
   * `'server'` rejects packets only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP) and
   * Subscription Identifiers on PUBLISH [MQTT-3.3.4-6]; `'client'` rejects packets only a
   * client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, and DISCONNECT before 5.0) and
   * Session Expiry Interval on DISCONNECT [MQTT-3.14.2-2]. Default: accept both directions.
   */
  side?: Side;
  /**
   * Reject SUBSCRIBE/UNSUBSCRIBE whose Topic Filters are malformed (`a/#/b`, `a+`, empty,
   * bad `$share/`) with `ERR_TOPIC_FILTER_INVALID` (0x8F). Default true. Set false in a broker
   * that wants to answer such filters per subscription (SUBACK 0x8F / 0x80) instead of
   * closing the connection; UTF-8 rules still apply.
   */
  strictTopicFilters?: boolean;
}

const SERVER_SENDS = (1 << 2) | (1 << 9) | (1 << 11) | (1 << 13); // CONNACK SUBACK UNSUBACK PINGRESP
const CLIENT_SENDS = (1 << 1) | (1 << 8) | (1 << 10) | (1 << 12); // CONNECT SUBSCRIBE UNSUBSCRIBE PINGREQ

/**
 * Checks the first fixed-header byte: reserved type, AUTH before 5.0, reserved flag bits
 * [MQTT-2.2.2-1]/[MQTT-2.1.3-1], and direction when `side` is set. Returns the type number.
 */
export function checkHeader(header: number, version: ProtocolVersion, side: Side | undefined): number {
  const type = header >> 4;
  if (type === 0) throw malformed(ErrorCode.ReservedPacketType, 'packet type 0 is reserved (3.1.1 §2.2.1, 5.0 §2.1.2)');
  if (type === 15 && version !== 5) {
    throw malformed(ErrorCode.ReservedPacketType, 'packet type 15 (AUTH) is reserved before MQTT 5.0 (3.1.1 §2.2.1)');
  }
  const required = REQUIRED_FLAGS[type] as number;
  if (required >= 0 && (header & 0x0f) !== required) {
    const e = malformed(
      ErrorCode.HeaderFlags,
      `reserved fixed-header flags of ${PACKET_TYPE_NAMES[type]} must be ${required.toString(2).padStart(4, '0')} [MQTT-2.2.2-1] [MQTT-2.2.2-2] [MQTT-2.1.3-1]` +
        (type === 6
          ? ' [MQTT-3.6.1-1]'
          : type === 8
            ? ' [MQTT-3.8.1-1]'
            : type === 10
              ? ' [MQTT-3.10.1-1]'
              : type === 14
                ? ' [MQTT-3.14.1-1]'
                : type === 15
                  ? ' [MQTT-3.15.1-1]'
                  : ''),
    );
    e.packetType = PACKET_TYPE_NAMES[type];
    throw e;
  }
  if (side !== undefined) {
    const bit = 1 << type;
    if (side === 'server' ? (SERVER_SENDS & bit) !== 0 : (CLIENT_SENDS & bit) !== 0 || (type === 14 && version !== 5)) {
      const e = protocolError(ErrorCode.UnexpectedPacket, `a ${side} must not receive ${PACKET_TYPE_NAMES[type]?.toUpperCase()}`);
      e.packetType = PACKET_TYPE_NAMES[type];
      throw e;
    }
  }
  return type;
}

function packetId(r: Reader): number {
  const id = r.u16();
  if (id === 0)
    throw protocolError(ErrorCode.PacketIdZero, 'Packet Identifier must be non-zero [MQTT-2.3.1-1] [MQTT-2.2.1-3] [MQTT-2.2.1-4]');
  return id;
}

function reasonCode(r: Reader, type: PacketTypeName, version: ProtocolVersion, rule: string): number {
  const rc = r.u8();
  if (!isValidReasonCode(type, rc, version)) {
    throw protocolError(
      ErrorCode.ReasonCodeInvalid,
      `0x${rc.toString(16).padStart(2, '0')} is not a valid ${type.toUpperCase()} reason code ${rule}`,
    );
  }
  return rc;
}

/**
 * Reads a length-prefixed Topic Name and rejects wildcards [MQTT-3.3.2-2] (3.1.1 [MQTT-4.7.1-1], 5.0 [MQTT-4.7.0-1]),
 * U+0000 and ill-formed UTF-8 in one pass for the usual short ASCII topic.
 */
function topicName(r: Reader): string {
  const n = r.u16();
  const start = r.pos;
  const end = start + n;
  if (end > r.end) throw malformed(ErrorCode.Truncated, 'Topic Name runs past the end of the packet');
  r.pos = end;
  const buf = r.buf;
  if (n <= 64) {
    let i = start;
    for (; i < end; i++) {
      const b = buf[i] as number;
      if (b === 0x2b || b === 0x23) break;
      if (b === 0 || b >= 0x80) break;
    }
    if (i === end) return n === 0 ? '' : latin1Slice(buf, start, end);
  }
  const view = buf.subarray(start, end);
  if (view.indexOf(0x2b) !== -1 || view.indexOf(0x23) !== -1) {
    throw new MqttPacketError(
      ErrorCode.TopicNameInvalid,
      0x90,
      'Topic Name must not contain wildcard characters [MQTT-3.3.2-2] (3.1.1 [MQTT-4.7.1-1]; 5.0 [MQTT-4.7.0-1])',
    );
  }
  if (view.indexOf(0) !== -1) throw malformed(ErrorCode.Utf8Null, 'Topic Name contains U+0000 [MQTT-4.7.3-2] [MQTT-1.5.4-2]');
  if (!isUtf8(view)) throw malformed(ErrorCode.Utf8Invalid, 'ill-formed UTF-8 in Topic Name [MQTT-1.5.3-1] [MQTT-1.5.4-1]');
  return decodeUtf8(buf, start, end);
}

function decodeConnect(r: Reader): ConnectPacket {
  // Protocol Name: compared as bytes, before anything else is trusted [MQTT-3.1.2-1].
  const nameLen = r.u16();
  const p = r.pos;
  if (p + nameLen > r.end) throw malformed(ErrorCode.Truncated, 'Protocol Name runs past the end of the packet');
  const b = r.buf;
  let name: 'MQTT' | 'MQIsdp';
  if (nameLen === 4 && b[p] === 0x4d && b[p + 1] === 0x51 && b[p + 2] === 0x54 && b[p + 3] === 0x54) name = 'MQTT';
  else if (nameLen === 6 && latin1Slice(b, p, p + 6) === 'MQIsdp') name = 'MQIsdp';
  else {
    throw new MqttPacketError(ErrorCode.ProtocolName, 0x84, 'Protocol Name must be "MQTT" (or "MQIsdp" for 3.1) [MQTT-3.1.2-1]', 'connect');
  }
  r.pos = p + nameLen;
  const level = r.u8();
  const version = level & 0x7f;
  if (version !== 3 && version !== 4 && version !== 5) {
    throw new MqttPacketError(
      ErrorCode.UnsupportedProtocolVersion,
      0x84,
      `unsupported Protocol Level ${level} [MQTT-3.1.2-2] (answer 3.1.1 CONNACK 0x01 / 5.0 0x84)`,
      'connect',
    );
  }
  if ((name === 'MQIsdp') !== (version === 3)) {
    throw new MqttPacketError(
      ErrorCode.ProtocolName,
      0x84,
      `Protocol Name "${name}" does not match Protocol Level ${version} [MQTT-3.1.2-1]`,
      'connect',
      version,
    );
  }
  try {
    return decodeConnectRest(r, version, (level & 0x80) !== 0);
  } catch (e) {
    if (e instanceof MqttPacketError) e.protocolVersion = version;
    throw e;
  }
}

function decodeConnectRest(r: Reader, version: ProtocolVersion, bridge: boolean): ConnectPacket {
  const flags = r.u8();
  if (flags & 0x01) throw malformed(ErrorCode.ConnectFlags, 'reserved CONNECT flag must be 0 [MQTT-3.1.2-3]');
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (!willFlag && (willQos !== 0 || willRetain)) {
    throw malformed(
      ErrorCode.ConnectFlags,
      'Will QoS and Will Retain must be 0 when the Will Flag is 0 (3.1.1 [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15]; 5.0 [MQTT-3.1.2-11] [MQTT-3.1.2-13])',
    );
  }
  if (willQos === 3) throw malformed(ErrorCode.QosInvalid, 'Will QoS must not be 3 (3.1.1 [MQTT-3.1.2-14]; 5.0 [MQTT-3.1.2-12])');
  const hasUser = (flags & 0x80) !== 0;
  const hasPass = (flags & 0x40) !== 0;
  if (hasPass && !hasUser && version !== 5) {
    throw malformed(ErrorCode.ConnectFlags, 'Password Flag set without User Name Flag [MQTT-3.1.2-22]');
  }
  const clean = (flags & 0x02) !== 0;
  const keepAlive = r.u16();
  const properties = version === 5 ? decodeProperties(r, 'connect') : undefined;
  const clientId = r.utf8(); // [MQTT-3.1.3-3] [MQTT-3.1.3-4]
  if (clientId.length === 0) {
    if (version === 3) {
      throw new MqttPacketError(ErrorCode.ClientIdInvalid, 0x85, 'MQTT 3.1 requires a Client Identifier of 1 to 23 characters (3.1 §3.1)');
    }
    if (version === 4 && !clean) {
      throw new MqttPacketError(
        ErrorCode.ClientIdInvalid,
        0x85,
        'zero-byte Client Identifier requires CleanSession 1 [MQTT-3.1.3-7] [MQTT-3.1.3-8]',
      );
    }
  }
  let will: Will | undefined;
  if (willFlag) {
    // [MQTT-3.1.2-9]: Will Properties (5.0), Will Topic and Will Payload must be present.
    const willProps = version === 5 ? decodeProperties(r, 'will') : undefined;
    const topic = topicName(r); // 3.1.1 [MQTT-3.1.3-10], 5.0 [MQTT-3.1.3-11]
    if (topic.length === 0) throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, 'Will Topic must not be empty [MQTT-4.7.3-1]');
    const payload = r.binary();
    will = { topic, payload, qos: willQos as 0 | 1 | 2, retain: willRetain, properties: willProps };
  }
  const username = hasUser ? r.utf8() : undefined; // 3.1.1 [MQTT-3.1.2-19] [MQTT-3.1.3-11], 5.0 [MQTT-3.1.2-17] [MQTT-3.1.3-12]
  const password = hasPass ? r.binary() : undefined; // [MQTT-3.1.2-21] / 5.0 [MQTT-3.1.2-19]
  r.done('CONNECT'); // [MQTT-3.1.2-18] [MQTT-3.1.2-20]: nothing after the flagged fields
  return {
    type: 'connect',
    protocolVersion: version,
    bridge: bridge || undefined,
    clean,
    keepAlive,
    clientId,
    will,
    username,
    password,
    properties,
  };
}

function decodeConnack(r: Reader, version: ProtocolVersion): ConnackPacket {
  const flags = r.u8();
  if ((flags & 0xfe) !== 0 || (version === 3 && flags !== 0)) {
    throw malformed(ErrorCode.ConnackFlags, 'CONNACK flag bits 7-1 are reserved and must be 0 (3.1.1 §3.2.2.1; 5.0 [MQTT-3.2.2-1])');
  }
  const rc = reasonCode(r, 'connack', version, version === 5 ? '[MQTT-3.2.2-8]' : '(3.1.1 §3.2.2.3: 6-255 reserved)');
  const sessionPresent = flags === 1;
  if (sessionPresent && rc !== 0) {
    throw protocolError(
      ErrorCode.SessionPresent,
      'Session Present must be 0 with a non-zero return/reason code (3.1.1 [MQTT-3.2.2-4]; 5.0 [MQTT-3.2.2-6])',
    );
  }
  const properties = version === 5 ? decodeProperties(r, 'connack') : undefined;
  r.done('CONNACK');
  return { type: 'connack', sessionPresent, reasonCode: rc, properties };
}

function decodePublish(r: Reader, header: number, version: ProtocolVersion, side: Side | undefined): PublishPacket {
  const qos = (header >> 1) & 3;
  if (qos === 3) throw malformed(ErrorCode.QosInvalid, 'PUBLISH must not have both QoS bits set [MQTT-3.3.1-4]');
  const dup = (header & 0x08) !== 0;
  if (dup && qos === 0) throw malformed(ErrorCode.DupQos0, 'DUP must be 0 for QoS 0 [MQTT-3.3.1-2]');
  const topic = topicName(r); // [MQTT-3.3.2-1] [MQTT-3.3.2-2]
  const id = qos > 0 ? packetId(r) : undefined;
  let properties: PublishPacket['properties'];
  if (version === 5) {
    properties = decodeProperties(r, 'publish');
    if (topic.length === 0 && properties?.topicAlias === undefined) {
      throw protocolError(ErrorCode.TopicNameEmpty, 'zero-length Topic Name without a Topic Alias (5.0 §3.3.2.1)');
    }
    if (side === 'server' && properties?.subscriptionIdentifiers !== undefined) {
      throw protocolError(
        ErrorCode.PropertyNotAllowed,
        'a PUBLISH from a Client must not contain a Subscription Identifier [MQTT-3.3.4-6]',
      );
    }
  } else if (topic.length === 0) {
    throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, 'Topic Name must be at least one character long [MQTT-4.7.3-1]');
  }
  const payload = r.buf.subarray(r.pos, r.end);
  r.pos = r.end;
  return { type: 'publish', topic, payload, qos: qos as 0 | 1 | 2, retain: (header & 1) !== 0, dup, packetId: id, properties };
}

function decodeAck(r: Reader, type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', version: ProtocolVersion): Packet {
  const id = packetId(r); // 3.1.1 [MQTT-2.3.1-6], 5.0 [MQTT-2.2.1-5]
  if (version !== 5) {
    r.done(type.toUpperCase());
    return { type, packetId: id };
  }
  let rc = 0;
  let properties: AckProperties | undefined;
  if (r.pos < r.end) {
    const rule =
      type === 'puback'
        ? '[MQTT-3.4.2-1]'
        : type === 'pubrec'
          ? '[MQTT-3.5.2-1]'
          : type === 'pubrel'
            ? '[MQTT-3.6.2-1]'
            : '[MQTT-3.7.2.1-1]';
    rc = reasonCode(r, type, 5, rule);
    // "If the Remaining Length is less than 4 there is no Property Length" (5.0 §3.4.2.2.1).
    if (r.pos < r.end) properties = decodeProperties(r, type);
  }
  r.done(type.toUpperCase());
  return { type, packetId: id, reasonCode: rc, properties };
}

function decodeSubscribe(r: Reader, version: ProtocolVersion, strictFilters: boolean): SubscribePacket {
  const id = packetId(r);
  const properties = version === 5 ? decodeProperties(r, 'subscribe') : undefined;
  const subscriptions: Subscription[] = [];
  while (r.pos < r.end) {
    const topicFilter = r.utf8(); // 3.1.1/5.0 [MQTT-3.8.3-1]
    const o = r.u8();
    const qos = o & 3;
    let noLocal = false;
    let retainAsPublished = false;
    let retainHandling = 0;
    if (version === 5) {
      if (o & 0xc0) throw malformed(ErrorCode.SubscriptionOptions, 'reserved Subscription Options bits 7-6 must be 0 [MQTT-3.8.3-5]');
      if (qos === 3) throw protocolError(ErrorCode.QosInvalid, 'Maximum QoS 3 in Subscription Options (5.0 §3.8.3.1)');
      noLocal = (o & 0x04) !== 0;
      retainAsPublished = (o & 0x08) !== 0;
      retainHandling = (o >> 4) & 3;
      if (retainHandling === 3) throw protocolError(ErrorCode.RetainHandling, 'Retain Handling 3 is a Protocol Error (5.0 §3.8.3.1)');
      if (noLocal && topicFilter.startsWith('$share/')) {
        throw protocolError(ErrorCode.NoLocalShared, 'No Local must not be set on a Shared Subscription [MQTT-3.8.3-4]');
      }
    } else {
      if (o & 0xfc) throw malformed(ErrorCode.SubscriptionOptions, 'reserved bits of the requested QoS byte must be 0 [MQTT-3-8.3-4]');
      if (qos === 3) throw malformed(ErrorCode.QosInvalid, 'requested QoS must be 0, 1 or 2 [MQTT-3-8.3-4]');
    }
    if (strictFilters) {
      const problem = topicFilterProblem(topicFilter, { shared: version === 5 });
      if (problem !== undefined) throw new MqttPacketError(ErrorCode.TopicFilterInvalid, 0x8f, problem);
    }
    subscriptions.push({ topicFilter, qos: qos as 0 | 1 | 2, noLocal, retainAsPublished, retainHandling: retainHandling as 0 | 1 | 2 });
  }
  if (subscriptions.length === 0) {
    throw protocolError(
      ErrorCode.EmptyPayload,
      'SUBSCRIBE must contain at least one Topic Filter (3.1.1 [MQTT-3.8.3-3]; 5.0 [MQTT-3.8.3-2])',
    );
  }
  return { type: 'subscribe', packetId: id, subscriptions, properties };
}

function decodeSuback(r: Reader, version: ProtocolVersion): SubackPacket {
  const id = packetId(r);
  const properties = version === 5 ? decodeProperties(r, 'suback') : undefined;
  const reasonCodes: number[] = [];
  while (r.pos < r.end) {
    const rc = r.u8();
    // 3.1 defines only granted QoS, but brokers send 0x80 to 3.1 clients as well.
    if (!isValidReasonCode('suback', rc, version)) {
      throw protocolError(
        ErrorCode.ReasonCodeInvalid,
        `0x${rc.toString(16)} is not a valid SUBACK code (3.1.1 [MQTT-3.9.3-2]; 5.0 [MQTT-3.9.3-2])`,
      );
    }
    reasonCodes.push(rc);
  }
  if (reasonCodes.length === 0) {
    throw protocolError(ErrorCode.EmptyPayload, 'SUBACK must contain a code per Topic Filter (3.1.1 [MQTT-3.8.4-5]; 5.0 [MQTT-3.8.4-6])');
  }
  return { type: 'suback', packetId: id, reasonCodes, properties };
}

function decodeUnsubscribe(r: Reader, version: ProtocolVersion, strictFilters: boolean): UnsubscribePacket {
  const id = packetId(r);
  const properties = version === 5 ? decodeProperties(r, 'unsubscribe') : undefined;
  const topicFilters: string[] = [];
  while (r.pos < r.end) {
    const f = r.utf8(); // [MQTT-3.10.3-1] (both versions)
    if (strictFilters) {
      const problem = topicFilterProblem(f, { shared: version === 5 });
      if (problem !== undefined) throw new MqttPacketError(ErrorCode.TopicFilterInvalid, 0x8f, problem);
    }
    topicFilters.push(f);
  }
  if (topicFilters.length === 0) {
    throw protocolError(ErrorCode.EmptyPayload, 'UNSUBSCRIBE must contain at least one Topic Filter [MQTT-3.10.3-2]');
  }
  return { type: 'unsubscribe', packetId: id, topicFilters, properties };
}

function decodeUnsuback(r: Reader, version: ProtocolVersion): UnsubackPacket {
  const id = packetId(r);
  if (version !== 5) {
    r.done('UNSUBACK'); // 3.1.1 §3.11: Remaining Length is 2, no payload
    return { type: 'unsuback', packetId: id, reasonCodes: [] };
  }
  const properties = decodeProperties(r, 'unsuback');
  const reasonCodes: number[] = [];
  while (r.pos < r.end) reasonCodes.push(reasonCode(r, 'unsuback', 5, '[MQTT-3.11.3-2]'));
  if (reasonCodes.length === 0) {
    throw protocolError(ErrorCode.EmptyPayload, 'UNSUBACK must contain a Reason Code per Topic Filter [MQTT-3.11.3-1] (5.0 §3.11.3)');
  }
  return { type: 'unsuback', packetId: id, reasonCodes, properties };
}

function decodeDisconnect(r: Reader, version: ProtocolVersion, side: Side | undefined): DisconnectPacket {
  if (version !== 5) {
    r.done('DISCONNECT');
    return { type: 'disconnect' };
  }
  let rc = 0;
  let properties: DisconnectPacket['properties'];
  if (r.pos < r.end) {
    rc = reasonCode(r, 'disconnect', 5, '[MQTT-3.14.2-1]');
    // "If the Remaining Length is less than 2, a value of 0 is used" (5.0 §3.14.2.2.1).
    if (r.pos < r.end) properties = decodeProperties(r, 'disconnect');
    if (side === 'client' && properties?.sessionExpiryInterval !== undefined) {
      throw protocolError(ErrorCode.PropertyNotAllowed, 'a Server must not send Session Expiry Interval on DISCONNECT [MQTT-3.14.2-2]');
    }
  }
  r.done('DISCONNECT');
  return { type: 'disconnect', reasonCode: rc, properties };
}

function decodeAuth(r: Reader): AuthPacket {
  let rc = 0;
  let properties: AuthPacket['properties'];
  // Remaining Length 0 means Success with no properties (5.0 §3.15.2.1).
  if (r.pos < r.end) {
    rc = reasonCode(r, 'auth', 5, '[MQTT-3.15.2-1]');
    if (r.pos < r.end) properties = decodeProperties(r, 'auth');
  }
  r.done('AUTH');
  return { type: 'auth', reasonCode: rc, properties };
}

/**
 * Decodes one packet body `r.buf[r.pos, r.end)` whose fixed-header byte is `header` (already
 * checked with {@link checkHeader}). CONNECT is decoded with its own protocol level; every other
 * packet with `version`. Errors carry `packetType` and `protocolVersion`.
 */
export function decodeBody(r: Reader, header: number, version: ProtocolVersion, side: Side | undefined, strictFilters: boolean): Packet {
  const type = header >> 4;
  try {
    switch (type) {
      case 3:
        return decodePublish(r, header, version, side);
      case 4:
        return decodeAck(r, 'puback', version);
      case 5:
        return decodeAck(r, 'pubrec', version);
      case 6:
        return decodeAck(r, 'pubrel', version);
      case 7:
        return decodeAck(r, 'pubcomp', version);
      case 1:
        return decodeConnect(r);
      case 2:
        return decodeConnack(r, version);
      case 8:
        return decodeSubscribe(r, version, strictFilters);
      case 9:
        return decodeSuback(r, version);
      case 10:
        return decodeUnsubscribe(r, version, strictFilters);
      case 11:
        return decodeUnsuback(r, version);
      case 12:
        r.done('PINGREQ');
        return { type: 'pingreq' };
      case 13:
        r.done('PINGRESP');
        return { type: 'pingresp' };
      case 14:
        return decodeDisconnect(r, version, side);
      default:
        return decodeAuth(r);
    }
  } catch (e) {
    if (e instanceof MqttPacketError) {
      e.packetType ??= PACKET_TYPE_NAMES[type];
      if (type !== 1) e.protocolVersion ??= version;
    }
    throw e;
  }
}
