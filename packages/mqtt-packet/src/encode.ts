import type { ProtocolVersion } from './constants.js';
import { ErrorCode, invalidArgument, MqttPacketError } from './errors.js';
import { propertiesLength, putVarint, writeProperties } from './properties.js';
import { connackReturnCodeFor, isValidReasonCode, subackReturnCodeFor } from './reason-codes.js';
import { topicFilterProblem } from './topic.js';
import type {
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  PubackPacket,
  PubcompPacket,
  PublishPacket,
  PubrecPacket,
  PubrelPacket,
  SubackPacket,
  SubscribePacket,
  UnsubackPacket,
  UnsubscribePacket,
} from './types.js';
import { utf8Length, writeString, writeUtf8 } from './utf8.js';
import { VARINT_MAX, varintSize } from './varint.js';

/*
 * Two passes per packet: `measure*` validates the packet and computes the Remaining Length,
 * leaving the lengths it computed in module-level scratch; `write*` then writes into a buffer
 * of exactly the right size. Encoding is synchronous and never re-entered, so scratch is safe.
 */
let sA = 0; // topic / client id / first string length
let sB = 0; // properties length
let sC = 0; // will properties length
let sD = 0; // will topic length
let sE = 0; // user name length
let sF = 0; // reason code (as encoded)
const sLens: number[] = []; // per-filter string lengths

const TYPE_BITS: Record<Packet['type'], number> = {
  connect: 0x10,
  connack: 0x20,
  publish: 0x30,
  puback: 0x40,
  pubrec: 0x50,
  pubrel: 0x62,
  pubcomp: 0x70,
  subscribe: 0x82,
  suback: 0x90,
  unsubscribe: 0xa2,
  unsuback: 0xb0,
  pingreq: 0xc0,
  pingresp: 0xd0,
  disconnect: 0xe0,
  auth: 0xf0,
};

function checkVersion(version: unknown): ProtocolVersion {
  if (version !== 3 && version !== 4 && version !== 5) {
    throw new MqttPacketError(ErrorCode.UnsupportedProtocolVersion, 0x84, `protocol version must be 3, 4 or 5, got ${String(version)}`);
  }
  return version;
}

function checkPacketId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 65_535) {
    throw new MqttPacketError(ErrorCode.PacketIdZero, 0x82, `packetId must be an integer in 1..65535 [MQTT-2.3.1-1], got ${String(id)}`);
  }
  return id;
}

function checkQos(q: unknown, what: string): 0 | 1 | 2 {
  if (q !== 0 && q !== 1 && q !== 2) throw new MqttPacketError(ErrorCode.QosInvalid, 0x81, `${what} must be 0, 1 or 2, got ${String(q)}`);
  return q;
}

function binLength(b: unknown, what: string): number {
  if (!(b instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  if (b.length > 65_535) throw new MqttPacketError(ErrorCode.StringTooLong, 0x80, `${what} is longer than 65,535 bytes`);
  return b.length;
}

/**
 * Byte length of a Topic Name, validated: no wildcards [MQTT-3.3.2-2], no U+0000, well-formed.
 * One pass over the characters for the usual short ASCII topic.
 */
// Anything that needs a closer look: wildcards, U+0000, or non-ASCII (one native scan).
const TOPIC_SUSPECT = /[+#\0\u0080-\uffff]/;

function topicLength(topic: unknown): number {
  if (typeof topic !== 'string') throw invalidArgument('topic must be a string');
  const n = topic.length;
  if (n <= 65_535 && !TOPIC_SUSPECT.test(topic)) return n; // plain ASCII: bytes = chars
  if (topic.indexOf('+') !== -1 || topic.indexOf('#') !== -1) {
    throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, `Topic Name must not contain wildcards [MQTT-3.3.2-2]: ${topic}`);
  }
  return utf8Length(topic, 'Topic Name'); // U+0000, surrogates, length
}

function filterLength(f: string, version: ProtocolVersion): number {
  const n = utf8Length(f, 'Topic Filter');
  const problem = topicFilterProblem(f, { shared: version === 5 });
  if (problem !== undefined) throw new MqttPacketError(ErrorCode.TopicFilterInvalid, 0x8f, problem);
  return n;
}

function w16(buf: Buffer, off: number, v: number): number {
  buf[off] = v >>> 8;
  buf[off + 1] = v & 0xff;
  return off + 2;
}

// ---------------------------------------------------------------------------------------------
// PUBLISH

function measurePublish(p: PublishPacket, version: ProtocolVersion): number {
  const qos = checkQos(p.qos, 'qos');
  if (p.dup && qos === 0) throw new MqttPacketError(ErrorCode.DupQos0, 0x81, 'dup must be false for QoS 0 [MQTT-3.3.1-2]');
  const payload = p.payload;
  if (!(payload instanceof Uint8Array)) throw invalidArgument('payload must be a Uint8Array');
  const tl = topicLength(p.topic);
  sA = tl;
  let n = 2 + tl + payload.length;
  if (qos > 0) {
    checkPacketId(p.packetId);
    n += 2;
  }
  if (version === 5) {
    const pl = p.properties === undefined ? 0 : propertiesLength(p.properties, 'publish');
    sB = pl;
    n += varintSize(pl) + pl;
    if (tl === 0 && p.properties?.topicAlias === undefined) {
      throw new MqttPacketError(ErrorCode.TopicNameEmpty, 0x82, 'an empty Topic Name needs a Topic Alias (5.0 §3.3.2.1)');
    }
  } else if (tl === 0) {
    throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, 'Topic Name must be at least one character long [MQTT-4.7.3-1]');
  }
  if (n > VARINT_MAX) throw new MqttPacketError(ErrorCode.PacketTooLarge, 0x95, 'PUBLISH larger than the MQTT maximum packet size');
  return n;
}

function writePublish(buf: Buffer, off: number, p: PublishPacket, version: ProtocolVersion, rl: number): number {
  buf[off] = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  off = putVarint(buf, off + 1, rl);
  const tl = sA;
  buf[off] = tl >>> 8;
  buf[off + 1] = tl & 0xff;
  off = writeUtf8(buf, off + 2, p.topic, tl);
  if (p.qos > 0) off = w16(buf, off, p.packetId as number);
  if (version === 5) off = writeProperties(buf, off, p.properties, sB);
  buf.set(p.payload, off);
  return off + p.payload.length;
}

// ---------------------------------------------------------------------------------------------
// CONNECT

function measureConnect(p: ConnectPacket): number {
  const v = checkVersion(p.protocolVersion);
  let n = (v === 3 ? 8 : 6) + 1 + 1 + 2; // name, level, flags, keep alive
  const ka = p.keepAlive;
  if (typeof ka !== 'number' || !Number.isInteger(ka) || ka < 0 || ka > 65_535)
    throw invalidArgument('keepAlive must be an integer in 0..65535');
  if (v === 5) {
    sB = propertiesLength(p.properties, 'connect');
    n += varintSize(sB) + sB;
  }
  sA = utf8Length(p.clientId, 'clientId');
  if (sA === 0 && (v === 3 || (v === 4 && !p.clean))) {
    throw new MqttPacketError(
      ErrorCode.ClientIdInvalid,
      0x85,
      v === 3 ? 'MQTT 3.1 requires a non-empty clientId' : 'an empty clientId requires clean: true [MQTT-3.1.3-7]',
    );
  }
  n += 2 + sA;
  const will = p.will;
  if (will !== undefined) {
    checkQos(will.qos, 'will.qos');
    if (v === 5) {
      sC = propertiesLength(will.properties, 'will');
      n += varintSize(sC) + sC;
    }
    sD = topicLength(will.topic);
    if (sD === 0) throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, 'will.topic must not be empty [MQTT-4.7.3-1]');
    n += 2 + sD + 2 + binLength(will.payload, 'will.payload');
  }
  if (p.username !== undefined) {
    sE = utf8Length(p.username, 'username');
    n += 2 + sE;
  } else if (p.password !== undefined && v !== 5) {
    throw new MqttPacketError(ErrorCode.ConnectFlags, 0x81, 'a password requires a username before MQTT 5 [MQTT-3.1.2-22]');
  }
  if (p.password !== undefined) n += 2 + binLength(p.password, 'password');
  return n;
}

function writeConnect(buf: Buffer, off: number, p: ConnectPacket, rl: number): number {
  const v = p.protocolVersion;
  buf[off] = 0x10;
  off = putVarint(buf, off + 1, rl);
  off = v === 3 ? writeString(buf, off, 'MQIsdp', 6) : writeString(buf, off, 'MQTT', 4);
  buf[off++] = v | (p.bridge ? 0x80 : 0);
  const will = p.will;
  let flags = p.clean ? 0x02 : 0;
  if (will !== undefined) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;
  buf[off++] = flags;
  off = w16(buf, off, p.keepAlive);
  if (v === 5) off = writeProperties(buf, off, p.properties, sB);
  off = writeString(buf, off, p.clientId, sA);
  if (will !== undefined) {
    if (v === 5) off = writeProperties(buf, off, will.properties, sC);
    off = writeString(buf, off, will.topic, sD);
    off = w16(buf, off, will.payload.length);
    buf.set(will.payload, off);
    off += will.payload.length;
  }
  if (p.username !== undefined) off = writeString(buf, off, p.username, sE);
  if (p.password !== undefined) {
    off = w16(buf, off, p.password.length);
    buf.set(p.password, off);
    off += p.password.length;
  }
  return off;
}

// ---------------------------------------------------------------------------------------------
// CONNACK

function measureConnack(p: ConnackPacket, version: ProtocolVersion): number {
  let rc = p.reasonCode;
  if (typeof rc !== 'number') throw invalidArgument('reasonCode must be a number');
  if (version !== 5) rc = connackReturnCodeFor(rc);
  if (!isValidReasonCode('connack', rc, version)) {
    throw new MqttPacketError(ErrorCode.ReasonCodeInvalid, 0x82, `0x${rc.toString(16)} is not a valid CONNACK code [MQTT-3.2.2-8]`);
  }
  if (p.sessionPresent && rc !== 0) {
    throw new MqttPacketError(ErrorCode.SessionPresent, 0x82, 'sessionPresent must be false with a non-zero code [MQTT-3.2.2-6]');
  }
  if (p.sessionPresent && version === 3) throw new MqttPacketError(ErrorCode.ConnackFlags, 0x81, 'MQTT 3.1 has no Session Present flag');
  sF = rc;
  if (version !== 5) return 2;
  sB = propertiesLength(p.properties, 'connack');
  return 2 + varintSize(sB) + sB;
}

function writeConnack(buf: Buffer, off: number, p: ConnackPacket, version: ProtocolVersion, rl: number): number {
  buf[off] = 0x20;
  off = putVarint(buf, off + 1, rl);
  buf[off++] = p.sessionPresent ? 1 : 0;
  buf[off++] = sF;
  if (version === 5) off = writeProperties(buf, off, p.properties, sB);
  return off;
}

// ---------------------------------------------------------------------------------------------
// PUBACK PUBREC PUBREL PUBCOMP

function measureAck(p: PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId);
  if (version !== 5) return 2;
  const rc = p.reasonCode ?? 0;
  if (!isValidReasonCode(p.type, rc, 5)) {
    throw new MqttPacketError(ErrorCode.ReasonCodeInvalid, 0x82, `0x${rc.toString(16)} is not a valid ${p.type.toUpperCase()} reason code`);
  }
  sF = rc;
  sB = propertiesLength(p.properties, p.type);
  if (sB === 0) return rc === 0 ? 2 : 3; // minimal forms (5.0 §3.4.2.1, §3.4.2.2.1)
  return 3 + varintSize(sB) + sB;
}

function writeAck(buf: Buffer, off: number, p: PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket, rl: number): number {
  buf[off] = TYPE_BITS[p.type];
  off = putVarint(buf, off + 1, rl);
  off = w16(buf, off, p.packetId);
  if (rl > 2) {
    buf[off++] = sF;
    if (rl > 3) off = writeProperties(buf, off, p.properties, sB);
  }
  return off;
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE SUBACK UNSUBSCRIBE UNSUBACK

function measureSubscribe(p: SubscribePacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId);
  const subs = p.subscriptions;
  if (!Array.isArray(subs) || subs.length === 0) {
    throw new MqttPacketError(ErrorCode.EmptyPayload, 0x82, 'SUBSCRIBE needs at least one subscription [MQTT-3.8.3-3]');
  }
  let n = 2;
  if (version === 5) {
    sB = propertiesLength(p.properties, 'subscribe');
    n += varintSize(sB) + sB;
  }
  sLens.length = subs.length;
  for (let i = 0; i < subs.length; i++) {
    const s = subs[i];
    if (s === undefined || s === null || typeof s !== 'object') throw invalidArgument('subscriptions entries must be objects');
    const fl = filterLength(s.topicFilter, version);
    sLens[i] = fl;
    checkQos(s.qos, 'subscription qos');
    if (version === 5) {
      const rh = s.retainHandling ?? 0;
      if (rh !== 0 && rh !== 1 && rh !== 2) throw new MqttPacketError(ErrorCode.RetainHandling, 0x82, 'retainHandling must be 0, 1 or 2');
      if (s.noLocal && s.topicFilter.startsWith('$share/')) {
        throw new MqttPacketError(ErrorCode.NoLocalShared, 0x82, 'noLocal must not be set on a Shared Subscription [MQTT-3.8.3-4]');
      }
    }
    n += 3 + fl;
  }
  return n;
}

function writeSubscribe(buf: Buffer, off: number, p: SubscribePacket, version: ProtocolVersion, rl: number): number {
  buf[off] = 0x82;
  off = putVarint(buf, off + 1, rl);
  off = w16(buf, off, p.packetId);
  if (version === 5) off = writeProperties(buf, off, p.properties, sB);
  const subs = p.subscriptions;
  for (let i = 0; i < subs.length; i++) {
    const s = subs[i] as SubscribePacket['subscriptions'][number];
    off = writeString(buf, off, s.topicFilter, sLens[i] as number);
    let o: number = s.qos;
    if (version === 5) o |= (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | ((s.retainHandling ?? 0) << 4);
    buf[off++] = o;
  }
  return off;
}

function measureSuback(p: SubackPacket | UnsubackPacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId);
  const codes = p.reasonCodes;
  if (!Array.isArray(codes)) throw invalidArgument('reasonCodes must be an array');
  if (p.type === 'unsuback' && version !== 5) return 2;
  if (codes.length === 0) throw new MqttPacketError(ErrorCode.EmptyPayload, 0x82, `${p.type.toUpperCase()} needs at least one reason code`);
  for (let i = 0; i < codes.length; i++) {
    let c = codes[i] as number;
    if (p.type === 'suback' && version !== 5 && typeof c === 'number') c = subackReturnCodeFor(c);
    if (typeof c !== 'number' || !isValidReasonCode(p.type, c, version)) {
      throw new MqttPacketError(
        ErrorCode.ReasonCodeInvalid,
        0x82,
        `${String(c)} is not a valid ${p.type.toUpperCase()} code [MQTT-3.9.3-2]`,
      );
    }
  }
  let n = 2 + codes.length;
  if (version === 5) {
    sB = propertiesLength(p.properties, p.type);
    n += varintSize(sB) + sB;
  }
  return n;
}

function writeSuback(buf: Buffer, off: number, p: SubackPacket | UnsubackPacket, version: ProtocolVersion, rl: number): number {
  buf[off] = p.type === 'suback' ? 0x90 : 0xb0;
  off = putVarint(buf, off + 1, rl);
  off = w16(buf, off, p.packetId);
  if (p.type === 'unsuback' && version !== 5) return off;
  if (version === 5) off = writeProperties(buf, off, p.properties, sB);
  const codes = p.reasonCodes;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    buf[off++] = version === 5 ? c : subackReturnCodeFor(c);
  }
  return off;
}

function measureUnsubscribe(p: UnsubscribePacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId);
  const list = p.topicFilters;
  if (!Array.isArray(list) || list.length === 0) {
    throw new MqttPacketError(ErrorCode.EmptyPayload, 0x82, 'UNSUBSCRIBE needs at least one Topic Filter [MQTT-3.10.3-2]');
  }
  let n = 2;
  if (version === 5) {
    sB = propertiesLength(p.properties, 'unsubscribe');
    n += varintSize(sB) + sB;
  }
  sLens.length = list.length;
  for (let i = 0; i < list.length; i++) {
    const fl = filterLength(list[i] as string, version);
    sLens[i] = fl;
    n += 2 + fl;
  }
  return n;
}

function writeUnsubscribe(buf: Buffer, off: number, p: UnsubscribePacket, version: ProtocolVersion, rl: number): number {
  buf[off] = 0xa2;
  off = putVarint(buf, off + 1, rl);
  off = w16(buf, off, p.packetId);
  if (version === 5) off = writeProperties(buf, off, p.properties, sB);
  const list = p.topicFilters;
  for (let i = 0; i < list.length; i++) off = writeString(buf, off, list[i] as string, sLens[i] as number);
  return off;
}

// ---------------------------------------------------------------------------------------------
// DISCONNECT AUTH

function measureDisconnect(p: DisconnectPacket | AuthPacket, version: ProtocolVersion): number {
  if (p.type === 'auth' && version !== 5) throw new MqttPacketError(ErrorCode.ReservedPacketType, 0x81, 'AUTH exists only in MQTT 5');
  if (version !== 5) return 0;
  const rc = p.reasonCode ?? 0;
  if (!isValidReasonCode(p.type, rc, 5)) {
    throw new MqttPacketError(ErrorCode.ReasonCodeInvalid, 0x82, `0x${rc.toString(16)} is not a valid ${p.type.toUpperCase()} reason code`);
  }
  sF = rc;
  sB = propertiesLength(p.properties, p.type);
  if (sB === 0) {
    if (rc === 0) return 0; // 5.0 §3.14.2.1 / §3.15.2.1: both may be omitted
    if (p.type === 'disconnect') return 1; // "If the Remaining Length is less than 2, a value of 0 is used"
  }
  return 1 + varintSize(sB) + sB;
}

function writeDisconnect(buf: Buffer, off: number, p: DisconnectPacket | AuthPacket, rl: number): number {
  buf[off] = p.type === 'auth' ? 0xf0 : 0xe0;
  off = putVarint(buf, off + 1, rl);
  if (rl === 0) return off;
  buf[off++] = sF;
  if (rl > 1) off = writeProperties(buf, off, p.properties, sB);
  return off;
}

// ---------------------------------------------------------------------------------------------

/** Validates `packet` and returns its Remaining Length, leaving lengths in scratch for `writeBody`. */
function measure(packet: Packet, version: ProtocolVersion): number {
  const rl = measureBody(packet, version);
  if (rl > VARINT_MAX) throw new MqttPacketError(ErrorCode.PacketTooLarge, 0x95, `packet body of ${rl} bytes exceeds the MQTT maximum`);
  return rl;
}

function measureBody(packet: Packet, version: ProtocolVersion): number {
  if (packet === null || typeof packet !== 'object') throw invalidArgument('packet must be an object');
  switch (packet.type) {
    case 'publish':
      return measurePublish(packet, version);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return measureAck(packet, version);
    case 'connect':
      return measureConnect(packet);
    case 'connack':
      return measureConnack(packet, version);
    case 'subscribe':
      return measureSubscribe(packet, version);
    case 'suback':
    case 'unsuback':
      return measureSuback(packet, version);
    case 'unsubscribe':
      return measureUnsubscribe(packet, version);
    case 'pingreq':
    case 'pingresp':
      return 0;
    case 'disconnect':
    case 'auth':
      return measureDisconnect(packet, version);
    default:
      throw invalidArgument(`unknown packet type ${String((packet as { type: unknown }).type)}`);
  }
}

function writeBody(buf: Buffer, off: number, packet: Packet, version: ProtocolVersion, rl: number): number {
  switch (packet.type) {
    case 'publish':
      return writePublish(buf, off, packet, version, rl);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return writeAck(buf, off, packet, rl);
    case 'connect':
      return writeConnect(buf, off, packet, rl);
    case 'connack':
      return writeConnack(buf, off, packet, version, rl);
    case 'subscribe':
      return writeSubscribe(buf, off, packet, version, rl);
    case 'suback':
    case 'unsuback':
      return writeSuback(buf, off, packet, version, rl);
    case 'unsubscribe':
      return writeUnsubscribe(buf, off, packet, version, rl);
    case 'pingreq':
    case 'pingresp':
      buf[off] = TYPE_BITS[packet.type];
      buf[off + 1] = 0;
      return off + 2;
    default:
      return writeDisconnect(buf, off, packet, rl);
  }
}

/**
 * Total encoded size of `packet` at `version` (fixed header included), after validating it.
 * Compare it with the peer's Maximum Packet Size before sending [MQTT-3.1.2-24] [MQTT-3.2.2-15].
 */
export function packetSize(packet: Packet, version: ProtocolVersion = 4): number {
  const rl = measure(packet, checkVersion(version));
  return 1 + varintSize(rl) + rl;
}

/**
 * Encodes `packet` for protocol `version` into one Buffer of exactly the right size
 * (measured first, allocated once, then written). CONNECT is encoded with its own
 * `protocolVersion`. MQTT 5-only fields (properties, reason codes of acks and DISCONNECT)
 * are ignored below 5; CONNACK/SUBACK reason codes are mapped to 3.1.1 return codes.
 * Throws {@link MqttPacketError} for anything the decoder would reject, so every encoded
 * packet decodes back to the same object.
 */
export function encode(packet: Packet, version: ProtocolVersion = 4): Buffer {
  const v = version === 4 || version === 5 || version === 3 ? version : checkVersion(version);
  const rl = measure(packet, v);
  const size = 1 + varintSize(rl) + rl;
  const buf = Buffer.allocUnsafe(size);
  writeBody(buf, 0, packet, v, rl);
  return buf;
}

/**
 * Encodes `packet` into `target` at `offset` (e.g. a connection's write buffer, to batch
 * several packets in one socket write). Returns the number of bytes written. Throws
 * `ERR_INVALID_ARGUMENT` if it does not fit.
 */
export function encodeInto(packet: Packet, version: ProtocolVersion, target: Uint8Array, offset = 0): number {
  const v = checkVersion(version);
  const rl = measure(packet, v);
  const size = 1 + varintSize(rl) + rl;
  if (offset < 0 || offset + size > target.length) throw invalidArgument(`packet of ${size} bytes does not fit at offset ${offset}`);
  const buf = Buffer.isBuffer(target) ? target : Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  writeBody(buf, offset, packet, v, rl);
  return size;
}

/**
 * Encodes a PUBLISH as two Buffers, the header (fixed header, topic, packet id, properties)
 * and the payload itself, without copying the payload: write both with `socket.cork()` /
 * `writev`. For large payloads this avoids the copy `encode` must make.
 */
export function encodePublishFrames(packet: PublishPacket, version: ProtocolVersion = 4): [header: Buffer, payload: Uint8Array] {
  const v = checkVersion(version);
  if (packet?.type !== 'publish') throw invalidArgument('encodePublishFrames takes a PUBLISH packet');
  const rl = measurePublish(packet, v);
  const payloadLen = packet.payload.length;
  const headSize = 1 + varintSize(rl) + rl - payloadLen;
  const head = Buffer.allocUnsafe(headSize);
  let off = putVarint(head, 1, rl);
  head[0] = 0x30 | (packet.dup ? 0x08 : 0) | (packet.qos << 1) | (packet.retain ? 1 : 0);
  off = writeString(head, off, packet.topic, sA);
  if (packet.qos > 0) off = w16(head, off, packet.packetId as number);
  if (v === 5) writeProperties(head, off, packet.properties, sB);
  return [head, packet.payload];
}
