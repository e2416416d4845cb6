import { ErrorCode, invalidArgument, MqttPacketError, malformed, protocolError } from './errors.js';
import type { Reader } from './reader.js';
import { isValidTopicName } from './topic.js';
import type { Properties, UserProperties } from './types.js';
import { utf8Length, writeString } from './utf8.js';
import { VARINT_MAX, varintSize } from './varint.js';

/** MQTT 5.0 property identifiers (§2.2.2.2 Table 2-4). */
export const PropertyId = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  SessionExpiryInterval: 0x11,
  AssignedClientIdentifier: 0x12,
  ServerKeepAlive: 0x13,
  AuthenticationMethod: 0x15,
  AuthenticationData: 0x16,
  RequestProblemInformation: 0x17,
  WillDelayInterval: 0x18,
  RequestResponseInformation: 0x19,
  ResponseInformation: 0x1a,
  ServerReference: 0x1c,
  ReasonString: 0x1f,
  ReceiveMaximum: 0x21,
  TopicAliasMaximum: 0x22,
  TopicAlias: 0x23,
  MaximumQoS: 0x24,
  RetainAvailable: 0x25,
  UserProperty: 0x26,
  MaximumPacketSize: 0x27,
  WildcardSubscriptionAvailable: 0x28,
  SubscriptionIdentifierAvailable: 0x29,
  SharedSubscriptionAvailable: 0x2a,
} as const;

/** Where properties can appear: each packet type with properties, plus the Will. */
export type PropertyContext =
  | 'connect'
  | 'connack'
  | 'publish'
  | 'will'
  | 'puback'
  | 'pubrec'
  | 'pubrel'
  | 'pubcomp'
  | 'subscribe'
  | 'suback'
  | 'unsubscribe'
  | 'unsuback'
  | 'disconnect'
  | 'auth';

/** Wire data types of properties (§1.5). */
export type PropertyType = 'byte' | 'two-byte' | 'four-byte' | 'varint' | 'utf8' | 'binary' | 'utf8-pair';

/** Bit per context, for the allowed-property masks. */
export const ContextBit: Readonly<Record<PropertyContext, number>> = {
  connect: 1 << 0,
  connack: 1 << 1,
  publish: 1 << 2,
  will: 1 << 3,
  puback: 1 << 4,
  pubrec: 1 << 5,
  pubrel: 1 << 6,
  pubcomp: 1 << 7,
  subscribe: 1 << 8,
  suback: 1 << 9,
  unsubscribe: 1 << 10,
  unsuback: 1 << 11,
  disconnect: 1 << 12,
  auth: 1 << 13,
};
const B = ContextBit;
const ACKS = B.puback | B.pubrec | B.pubrel | B.pubcomp | B.suback | B.unsuback;
const ALL = (1 << 14) - 1;

/** One row of the property table. */
export interface PropertySpec {
  id: number;
  /** Key in {@link Properties}; Subscription Identifier is `subscriptionIdentifiers` on PUBLISH. */
  name: keyof Properties;
  type: PropertyType;
  /** Contexts in which the property may appear. */
  contexts: PropertyContext[];
  /** Whether it may appear more than once (User Property; Subscription Identifier on PUBLISH). */
  repeatable: boolean;
}

function ctxs(mask: number): PropertyContext[] {
  return (Object.keys(B) as PropertyContext[]).filter((c) => (B[c] & mask) !== 0);
}

/** Allowed-context mask per property id (0 = unknown id). */
const MASK = new Uint16Array(64);
const SPECS: PropertySpec[] = [];
function def(id: number, name: keyof Properties, type: PropertyType, mask: number, repeatable = false): void {
  MASK[id] = mask;
  SPECS.push({ id, name, type, contexts: ctxs(mask), repeatable });
}
def(0x01, 'payloadFormatIndicator', 'byte', B.publish | B.will);
def(0x02, 'messageExpiryInterval', 'four-byte', B.publish | B.will);
def(0x03, 'contentType', 'utf8', B.publish | B.will);
def(0x08, 'responseTopic', 'utf8', B.publish | B.will);
def(0x09, 'correlationData', 'binary', B.publish | B.will);
def(0x0b, 'subscriptionIdentifier', 'varint', B.publish | B.subscribe, true);
def(0x11, 'sessionExpiryInterval', 'four-byte', B.connect | B.connack | B.disconnect);
def(0x12, 'assignedClientIdentifier', 'utf8', B.connack);
def(0x13, 'serverKeepAlive', 'two-byte', B.connack);
def(0x15, 'authenticationMethod', 'utf8', B.connect | B.connack | B.auth);
def(0x16, 'authenticationData', 'binary', B.connect | B.connack | B.auth);
def(0x17, 'requestProblemInformation', 'byte', B.connect);
def(0x18, 'willDelayInterval', 'four-byte', B.will);
def(0x19, 'requestResponseInformation', 'byte', B.connect);
def(0x1a, 'responseInformation', 'utf8', B.connack);
def(0x1c, 'serverReference', 'utf8', B.connack | B.disconnect);
def(0x1f, 'reasonString', 'utf8', B.connack | ACKS | B.disconnect | B.auth);
def(0x21, 'receiveMaximum', 'two-byte', B.connect | B.connack);
def(0x22, 'topicAliasMaximum', 'two-byte', B.connect | B.connack);
def(0x23, 'topicAlias', 'two-byte', B.publish);
def(0x24, 'maximumQoS', 'byte', B.connack);
def(0x25, 'retainAvailable', 'byte', B.connack);
def(0x26, 'userProperties', 'utf8-pair', ALL, true);
def(0x27, 'maximumPacketSize', 'four-byte', B.connect | B.connack);
def(0x28, 'wildcardSubscriptionAvailable', 'byte', B.connack);
def(0x29, 'subscriptionIdentifiersAvailable', 'byte', B.connack);
def(0x2a, 'sharedSubscriptionAvailable', 'byte', B.connack);

/** The property table (§2.2.2.2), in identifier order. */
export const PROPERTY_SPECS: readonly PropertySpec[] = SPECS;

const BY_NAME = new Map<string, PropertySpec>(SPECS.map((s) => [s.name, s]));
BY_NAME.set('subscriptionIdentifiers', SPECS.find((s) => s.id === 0x0b) as PropertySpec);

/**
 * Whether property `name` may appear in `context`. Subscription Identifier is
 * `subscriptionIdentifiers` (array) on PUBLISH and `subscriptionIdentifier` on SUBSCRIBE.
 */
export function isPropertyAllowed(context: PropertyContext, name: keyof Properties): boolean {
  if (name === 'subscriptionIdentifiers') return context === 'publish';
  if (name === 'subscriptionIdentifier') return context === 'subscribe';
  const spec = BY_NAME.get(name);
  return spec !== undefined && ((MASK[spec.id] as number) & B[context]) !== 0;
}

/** The properties allowed in `context`, by key. */
export function allowedProperties(context: PropertyContext): (keyof Properties)[] {
  const out: (keyof Properties)[] = [];
  for (const s of SPECS) {
    if (((MASK[s.id] as number) & B[context]) === 0) continue;
    if (s.id === 0x0b) out.push(context === 'publish' ? 'subscriptionIdentifiers' : 'subscriptionIdentifier');
    else out.push(s.name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function notAllowed(id: number, context: PropertyContext): MqttPacketError {
  return malformed(
    ErrorCode.PropertyNotAllowed,
    `property 0x${id.toString(16).padStart(2, '0')} is not valid in ${context} (5.0 §2.2.2.2)`,
  );
}

function duplicate(id: number, context: PropertyContext): MqttPacketError {
  return protocolError(
    ErrorCode.PropertyDuplicate,
    `property 0x${id.toString(16).padStart(2, '0')} appears more than once in ${context} (5.0 §2.2.2.2 / §3.x property rules)`,
  );
}

function badValue(message: string): MqttPacketError {
  return protocolError(ErrorCode.PropertyValue, message);
}

function flag(r: Reader, what: string): boolean {
  const v = r.u8();
  if (v > 1) throw badValue(`${what} must be 0 or 1, got ${v}`);
  return v === 1;
}

/**
 * Reads a Property Length and the properties after it. Returns `undefined` for a zero length
 * (no allocation). Enforces: known identifier, allowed in this context, at most once unless
 * repeatable, each value in range, Authentication Data only with Authentication Method.
 */
export function decodeProperties(r: Reader, context: PropertyContext): Properties | undefined {
  const len = r.varint();
  if (len === 0) return undefined;
  const end = r.pos + len;
  if (end > r.end) throw malformed(ErrorCode.Truncated, 'Property Length runs past the end of the packet');
  const outerEnd = r.end;
  r.end = end; // property values cannot read past the property block
  const bit = B[context];
  const props: Properties = {};
  let seenLo = 0; // ids 0..31
  let seenHi = 0; // ids 32..63
  while (r.pos < end) {
    const id = r.varint();
    if (id >= 64 || MASK[id] === 0) {
      throw malformed(ErrorCode.PropertyUnknown, `unknown property identifier 0x${id.toString(16)} (5.0 §2.2.2.2)`);
    }
    if (((MASK[id] as number) & bit) === 0) throw notAllowed(id, context);
    if (id !== 0x26 && !(id === 0x0b && context === 'publish')) {
      if (id < 32) {
        if (seenLo & (1 << id)) throw duplicate(id, context);
        seenLo |= 1 << id;
      } else {
        if (seenHi & (1 << (id - 32))) throw duplicate(id, context);
        seenHi |= 1 << (id - 32);
      }
    }
    switch (id) {
      case 0x01: {
        const v = r.u8();
        if (v > 1) throw badValue(`Payload Format Indicator must be 0 or 1, got ${v} (5.0 §3.3.2.3.2)`);
        props.payloadFormatIndicator = v as 0 | 1;
        break;
      }
      case 0x02:
        props.messageExpiryInterval = r.u32();
        break;
      case 0x03:
        props.contentType = r.utf8();
        break;
      case 0x08: {
        const t = r.utf8();
        if (!isValidTopicName(t)) {
          throw badValue('Response Topic must be a valid Topic Name without wildcards [MQTT-3.3.2-14]');
        }
        props.responseTopic = t;
        break;
      }
      case 0x09:
        props.correlationData = r.binary();
        break;
      case 0x0b: {
        const v = r.varint();
        if (v === 0) throw badValue('Subscription Identifier 0 is a Protocol Error (5.0 §3.8.2.1.2)');
        if (context === 'publish') {
          if (props.subscriptionIdentifiers === undefined) props.subscriptionIdentifiers = [v];
          else props.subscriptionIdentifiers.push(v);
        } else {
          props.subscriptionIdentifier = v;
        }
        break;
      }
      case 0x11:
        props.sessionExpiryInterval = r.u32();
        break;
      case 0x12:
        props.assignedClientIdentifier = r.utf8();
        break;
      case 0x13:
        props.serverKeepAlive = r.u16();
        break;
      case 0x15:
        props.authenticationMethod = r.utf8();
        break;
      case 0x16:
        props.authenticationData = r.binary();
        break;
      case 0x17:
        props.requestProblemInformation = flag(r, 'Request Problem Information (5.0 §3.1.2.11.7)');
        break;
      case 0x18:
        props.willDelayInterval = r.u32();
        break;
      case 0x19:
        props.requestResponseInformation = flag(r, 'Request Response Information (5.0 §3.1.2.11.6)');
        break;
      case 0x1a:
        props.responseInformation = r.utf8();
        break;
      case 0x1c:
        props.serverReference = r.utf8();
        break;
      case 0x1f:
        props.reasonString = r.utf8();
        break;
      case 0x21: {
        const v = r.u16();
        if (v === 0) throw badValue('Receive Maximum 0 is a Protocol Error (5.0 §3.1.2.11.3)');
        props.receiveMaximum = v;
        break;
      }
      case 0x22:
        props.topicAliasMaximum = r.u16();
        break;
      case 0x23: {
        const v = r.u16();
        if (v === 0) throw badValue('Topic Alias 0 is not permitted [MQTT-3.3.2-8]');
        props.topicAlias = v;
        break;
      }
      case 0x24: {
        const v = r.u8();
        if (v > 1) throw badValue(`Maximum QoS must be 0 or 1, got ${v} (5.0 §3.2.2.3.4)`);
        props.maximumQoS = v as 0 | 1;
        break;
      }
      case 0x25:
        props.retainAvailable = flag(r, 'Retain Available (5.0 §3.2.2.3.5)');
        break;
      case 0x26: {
        const k = r.utf8();
        const v = r.utf8();
        if (props.userProperties === undefined) props.userProperties = [[k, v]];
        else props.userProperties.push([k, v]);
        break;
      }
      case 0x27: {
        const v = r.u32();
        if (v === 0) throw badValue('Maximum Packet Size 0 is a Protocol Error (5.0 §3.1.2.11.4)');
        props.maximumPacketSize = v;
        break;
      }
      case 0x28:
        props.wildcardSubscriptionAvailable = flag(r, 'Wildcard Subscription Available (5.0 §3.2.2.3.11)');
        break;
      case 0x29:
        props.subscriptionIdentifiersAvailable = flag(r, 'Subscription Identifiers Available (5.0 §3.2.2.3.12)');
        break;
      case 0x2a:
        props.sharedSubscriptionAvailable = flag(r, 'Shared Subscription Available (5.0 §3.2.2.3.13)');
        break;
    }
  }
  r.end = outerEnd;
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    throw protocolError(ErrorCode.AuthDataWithoutMethod, 'Authentication Data without Authentication Method (5.0 §3.1.2.11.10)');
  }
  return props;
}

// ---------------------------------------------------------------------------------------------
// Encoding: hand-written per property (named loads are cheap; a table walk with keyed loads is not).

function checkAllowed(id: number, bit: number, context: PropertyContext): void {
  if (((MASK[id] as number) & bit) === 0) {
    throw new MqttPacketError(
      ErrorCode.PropertyNotAllowed,
      0x81,
      `property 0x${id.toString(16).padStart(2, '0')} is not valid in ${context} (5.0 §2.2.2.2)`,
    );
  }
}

function intIn(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(`${what} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw invalidArgument(`${what} must be a boolean`);
  return v;
}

function binLen(v: unknown, what: string): number {
  if (!(v instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  if (v.length > 65_535) throw new MqttPacketError(ErrorCode.StringTooLong, 0x80, `${what} is longer than 65,535 bytes`);
  return v.length;
}

function userPropsLength(list: UserProperties): number {
  if (!Array.isArray(list)) throw invalidArgument('userProperties must be an array of [name, value] pairs');
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i];
    if (!Array.isArray(pair) || pair.length !== 2) throw invalidArgument('userProperties entries must be [name, value] pairs');
    n += 5 + utf8Length(pair[0], 'User Property name') + utf8Length(pair[1], 'User Property value');
  }
  return n;
}

/**
 * Byte length of the encoded properties of `p` in `context`, without the Property Length
 * prefix. Validates every value and rejects properties not allowed in `context`.
 */
export function propertiesLength(p: Properties | undefined, context: PropertyContext): number {
  if (p === undefined || p === null) return 0;
  if (typeof p !== 'object') throw invalidArgument('properties must be an object');
  const bit = B[context];
  let n = 0;
  if (p.payloadFormatIndicator !== undefined) {
    checkAllowed(0x01, bit, context);
    intIn(p.payloadFormatIndicator, 0, 1, 'payloadFormatIndicator');
    n += 2;
  }
  if (p.messageExpiryInterval !== undefined) {
    checkAllowed(0x02, bit, context);
    intIn(p.messageExpiryInterval, 0, 0xffffffff, 'messageExpiryInterval');
    n += 5;
  }
  if (p.contentType !== undefined) {
    checkAllowed(0x03, bit, context);
    n += 3 + utf8Length(p.contentType, 'contentType');
  }
  if (p.responseTopic !== undefined) {
    checkAllowed(0x08, bit, context);
    n += 3 + utf8Length(p.responseTopic, 'responseTopic');
    if (!isValidTopicName(p.responseTopic)) {
      throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x82, 'responseTopic must be a Topic Name without wildcards [MQTT-3.3.2-14]');
    }
  }
  if (p.correlationData !== undefined) {
    checkAllowed(0x09, bit, context);
    n += 3 + binLen(p.correlationData, 'correlationData');
  }
  if (p.subscriptionIdentifiers !== undefined) {
    if (context !== 'publish')
      throw invalidArgument(`subscriptionIdentifiers is only valid on PUBLISH (use subscriptionIdentifier on SUBSCRIBE)`);
    const ids = p.subscriptionIdentifiers;
    if (!Array.isArray(ids)) throw invalidArgument('subscriptionIdentifiers must be an array');
    for (let i = 0; i < ids.length; i++) n += 1 + varintSize(intIn(ids[i], 1, VARINT_MAX, 'subscriptionIdentifier'));
  }
  if (p.subscriptionIdentifier !== undefined) {
    if (context !== 'subscribe')
      throw invalidArgument(`subscriptionIdentifier is only valid on SUBSCRIBE (use subscriptionIdentifiers on PUBLISH)`);
    n += 1 + varintSize(intIn(p.subscriptionIdentifier, 1, VARINT_MAX, 'subscriptionIdentifier'));
  }
  if (p.sessionExpiryInterval !== undefined) {
    checkAllowed(0x11, bit, context);
    intIn(p.sessionExpiryInterval, 0, 0xffffffff, 'sessionExpiryInterval');
    n += 5;
  }
  if (p.assignedClientIdentifier !== undefined) {
    checkAllowed(0x12, bit, context);
    n += 3 + utf8Length(p.assignedClientIdentifier, 'assignedClientIdentifier');
  }
  if (p.serverKeepAlive !== undefined) {
    checkAllowed(0x13, bit, context);
    intIn(p.serverKeepAlive, 0, 0xffff, 'serverKeepAlive');
    n += 3;
  }
  if (p.authenticationMethod !== undefined) {
    checkAllowed(0x15, bit, context);
    n += 3 + utf8Length(p.authenticationMethod, 'authenticationMethod');
  }
  if (p.authenticationData !== undefined) {
    checkAllowed(0x16, bit, context);
    if (p.authenticationMethod === undefined) {
      throw new MqttPacketError(
        ErrorCode.AuthDataWithoutMethod,
        0x82,
        'authenticationData requires authenticationMethod (5.0 §3.1.2.11.10)',
      );
    }
    n += 3 + binLen(p.authenticationData, 'authenticationData');
  }
  if (p.requestProblemInformation !== undefined) {
    checkAllowed(0x17, bit, context);
    bool(p.requestProblemInformation, 'requestProblemInformation');
    n += 2;
  }
  if (p.willDelayInterval !== undefined) {
    checkAllowed(0x18, bit, context);
    intIn(p.willDelayInterval, 0, 0xffffffff, 'willDelayInterval');
    n += 5;
  }
  if (p.requestResponseInformation !== undefined) {
    checkAllowed(0x19, bit, context);
    bool(p.requestResponseInformation, 'requestResponseInformation');
    n += 2;
  }
  if (p.responseInformation !== undefined) {
    checkAllowed(0x1a, bit, context);
    n += 3 + utf8Length(p.responseInformation, 'responseInformation');
  }
  if (p.serverReference !== undefined) {
    checkAllowed(0x1c, bit, context);
    n += 3 + utf8Length(p.serverReference, 'serverReference');
  }
  if (p.reasonString !== undefined) {
    checkAllowed(0x1f, bit, context);
    n += 3 + utf8Length(p.reasonString, 'reasonString');
  }
  if (p.receiveMaximum !== undefined) {
    checkAllowed(0x21, bit, context);
    intIn(p.receiveMaximum, 1, 0xffff, 'receiveMaximum');
    n += 3;
  }
  if (p.topicAliasMaximum !== undefined) {
    checkAllowed(0x22, bit, context);
    intIn(p.topicAliasMaximum, 0, 0xffff, 'topicAliasMaximum');
    n += 3;
  }
  if (p.topicAlias !== undefined) {
    checkAllowed(0x23, bit, context);
    intIn(p.topicAlias, 1, 0xffff, 'topicAlias');
    n += 3;
  }
  if (p.maximumQoS !== undefined) {
    checkAllowed(0x24, bit, context);
    intIn(p.maximumQoS, 0, 1, 'maximumQoS');
    n += 2;
  }
  if (p.retainAvailable !== undefined) {
    checkAllowed(0x25, bit, context);
    bool(p.retainAvailable, 'retainAvailable');
    n += 2;
  }
  if (p.userProperties !== undefined) n += userPropsLength(p.userProperties);
  if (p.maximumPacketSize !== undefined) {
    checkAllowed(0x27, bit, context);
    intIn(p.maximumPacketSize, 1, 0xffffffff, 'maximumPacketSize');
    n += 5;
  }
  if (p.wildcardSubscriptionAvailable !== undefined) {
    checkAllowed(0x28, bit, context);
    bool(p.wildcardSubscriptionAvailable, 'wildcardSubscriptionAvailable');
    n += 2;
  }
  if (p.subscriptionIdentifiersAvailable !== undefined) {
    checkAllowed(0x29, bit, context);
    bool(p.subscriptionIdentifiersAvailable, 'subscriptionIdentifiersAvailable');
    n += 2;
  }
  if (p.sharedSubscriptionAvailable !== undefined) {
    checkAllowed(0x2a, bit, context);
    bool(p.sharedSubscriptionAvailable, 'sharedSubscriptionAvailable');
    n += 2;
  }
  return n;
}

/** Size of a property block on the wire: Property Length prefix + properties. */
export function propertiesSize(p: Properties | undefined, context: PropertyContext): number {
  const n = propertiesLength(p, context);
  return varintSize(n) + n;
}

function w32(buf: Buffer, off: number, v: number): number {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
  return off + 4;
}

function w16(buf: Buffer, off: number, v: number): number {
  buf[off] = v >>> 8;
  buf[off + 1] = v & 0xff;
  return off + 2;
}

/** Writes a Variable Byte Integer already known to be in range. */
export function putVarint(buf: Buffer, off: number, v: number): number {
  while (v >= 128) {
    buf[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[off++] = v;
  return off;
}

function wStr(buf: Buffer, off: number, id: number, s: string): number {
  buf[off] = id;
  return writeString(buf, off + 1, s, Buffer.byteLength(s, 'utf8'));
}

function wBin(buf: Buffer, off: number, id: number, b: Uint8Array): number {
  buf[off] = id;
  off = w16(buf, off + 1, b.length);
  buf.set(b, off);
  return off + b.length;
}

/**
 * Writes the Property Length `len` (from {@link propertiesLength}) and the properties, in
 * identifier order (User Properties in their given order). Returns the offset after them.
 */
export function writeProperties(buf: Buffer, off: number, p: Properties | undefined, len: number): number {
  off = putVarint(buf, off, len);
  if (len === 0 || p === undefined) return off;
  if (p.payloadFormatIndicator !== undefined) {
    buf[off++] = 0x01;
    buf[off++] = p.payloadFormatIndicator;
  }
  if (p.messageExpiryInterval !== undefined) {
    buf[off++] = 0x02;
    off = w32(buf, off, p.messageExpiryInterval);
  }
  if (p.contentType !== undefined) off = wStr(buf, off, 0x03, p.contentType);
  if (p.responseTopic !== undefined) off = wStr(buf, off, 0x08, p.responseTopic);
  if (p.correlationData !== undefined) off = wBin(buf, off, 0x09, p.correlationData);
  if (p.subscriptionIdentifiers !== undefined) {
    const ids = p.subscriptionIdentifiers;
    for (let i = 0; i < ids.length; i++) {
      buf[off++] = 0x0b;
      off = putVarint(buf, off, ids[i] as number);
    }
  }
  if (p.subscriptionIdentifier !== undefined) {
    buf[off++] = 0x0b;
    off = putVarint(buf, off, p.subscriptionIdentifier);
  }
  if (p.sessionExpiryInterval !== undefined) {
    buf[off++] = 0x11;
    off = w32(buf, off, p.sessionExpiryInterval);
  }
  if (p.assignedClientIdentifier !== undefined) off = wStr(buf, off, 0x12, p.assignedClientIdentifier);
  if (p.serverKeepAlive !== undefined) {
    buf[off++] = 0x13;
    off = w16(buf, off, p.serverKeepAlive);
  }
  if (p.authenticationMethod !== undefined) off = wStr(buf, off, 0x15, p.authenticationMethod);
  if (p.authenticationData !== undefined) off = wBin(buf, off, 0x16, p.authenticationData);
  if (p.requestProblemInformation !== undefined) {
    buf[off++] = 0x17;
    buf[off++] = p.requestProblemInformation ? 1 : 0;
  }
  if (p.willDelayInterval !== undefined) {
    buf[off++] = 0x18;
    off = w32(buf, off, p.willDelayInterval);
  }
  if (p.requestResponseInformation !== undefined) {
    buf[off++] = 0x19;
    buf[off++] = p.requestResponseInformation ? 1 : 0;
  }
  if (p.responseInformation !== undefined) off = wStr(buf, off, 0x1a, p.responseInformation);
  if (p.serverReference !== undefined) off = wStr(buf, off, 0x1c, p.serverReference);
  if (p.reasonString !== undefined) off = wStr(buf, off, 0x1f, p.reasonString);
  if (p.receiveMaximum !== undefined) {
    buf[off++] = 0x21;
    off = w16(buf, off, p.receiveMaximum);
  }
  if (p.topicAliasMaximum !== undefined) {
    buf[off++] = 0x22;
    off = w16(buf, off, p.topicAliasMaximum);
  }
  if (p.topicAlias !== undefined) {
    buf[off++] = 0x23;
    off = w16(buf, off, p.topicAlias);
  }
  if (p.maximumQoS !== undefined) {
    buf[off++] = 0x24;
    buf[off++] = p.maximumQoS;
  }
  if (p.retainAvailable !== undefined) {
    buf[off++] = 0x25;
    buf[off++] = p.retainAvailable ? 1 : 0;
  }
  if (p.userProperties !== undefined) {
    const list = p.userProperties;
    for (let i = 0; i < list.length; i++) {
      const pair = list[i] as [string, string];
      off = wStr(buf, off, 0x26, pair[0]);
      off = writeString(buf, off, pair[1], Buffer.byteLength(pair[1], 'utf8'));
    }
  }
  if (p.maximumPacketSize !== undefined) {
    buf[off++] = 0x27;
    off = w32(buf, off, p.maximumPacketSize);
  }
  if (p.wildcardSubscriptionAvailable !== undefined) {
    buf[off++] = 0x28;
    buf[off++] = p.wildcardSubscriptionAvailable ? 1 : 0;
  }
  if (p.subscriptionIdentifiersAvailable !== undefined) {
    buf[off++] = 0x29;
    buf[off++] = p.subscriptionIdentifiersAvailable ? 1 : 0;
  }
  if (p.sharedSubscriptionAvailable !== undefined) {
    buf[off++] = 0x2a;
    buf[off++] = p.sharedSubscriptionAvailable ? 1 : 0;
  }
  return off;
}
