import { describe, expect, it } from 'vitest';
import {
  decode,
  encode,
  encodeInto,
  encodePublishFrames,
  MqttPacketError,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
  packetSize,
} from '../src/index.js';

const pub = (extra: Partial<PublishPacket> = {}): PublishPacket => ({
  type: 'publish',
  topic: 'a/b',
  payload: Buffer.from('x'),
  qos: 0,
  retain: false,
  dup: false,
  ...extra,
});

function encodeError(p: unknown, version: ProtocolVersion = 4): MqttPacketError {
  try {
    encode(p as Packet, version);
  } catch (e) {
    if (e instanceof MqttPacketError) return e;
    throw e;
  }
  throw new Error('encode did not throw');
}

/** Inputs the encoder refuses, so that everything it emits decodes back (see roundtrip tests). */
const REFUSED: [string, unknown, ProtocolVersion, string][] = [
  ['QoS 3 [MQTT-3.3.1-4]', pub({ qos: 3 as never, packetId: 1 }), 4, 'ERR_QOS_INVALID'],
  ['DUP on QoS 0 [MQTT-3.3.1-2]', pub({ dup: true }), 4, 'ERR_DUP_QOS0'],
  ['QoS 1 without a packet id [MQTT-2.3.1-1]', pub({ qos: 1 }), 4, 'ERR_PACKET_ID_ZERO'],
  ['packet id 0', pub({ qos: 1, packetId: 0 }), 4, 'ERR_PACKET_ID_ZERO'],
  ['packet id 65536', pub({ qos: 2, packetId: 65_536 }), 4, 'ERR_PACKET_ID_ZERO'],
  ["wildcard '+' in a Topic Name [MQTT-3.3.2-2]", pub({ topic: 'a/+' }), 4, 'ERR_TOPIC_NAME_INVALID'],
  ["wildcard '#' in a non-ASCII Topic Name", pub({ topic: 'é/#' }), 4, 'ERR_TOPIC_NAME_INVALID'],
  ['empty Topic Name (3.1.1) [MQTT-4.7.3-1]', pub({ topic: '' }), 4, 'ERR_TOPIC_NAME_INVALID'],
  ['empty Topic Name without Topic Alias (5.0)', pub({ topic: '' }), 5, 'ERR_TOPIC_NAME_EMPTY'],
  ['U+0000 in a Topic Name [MQTT-4.7.3-2]', pub({ topic: 'a\0' }), 4, 'ERR_UTF8_NULL'],
  ['lone surrogate in a Topic Name [MQTT-1.5.4-1]', pub({ topic: 'a\ud800' }), 4, 'ERR_UTF8_INVALID'],
  ['Topic Name over 65,535 bytes [MQTT-4.7.3-3]', pub({ topic: 'é'.repeat(40_000) }), 4, 'ERR_STRING_TOO_LONG'],
  ['payload not a Uint8Array', pub({ payload: 'x' as never }), 4, 'ERR_INVALID_ARGUMENT'],
  ['Topic Alias 0 [MQTT-3.3.2-8]', pub({ properties: { topicAlias: 0 } }), 5, 'ERR_INVALID_ARGUMENT'],
  ['property not valid on PUBLISH', pub({ properties: { sessionExpiryInterval: 1 } as never }), 5, 'ERR_PROPERTY_NOT_ALLOWED'],
  ['Response Topic with a wildcard [MQTT-3.3.2-14]', pub({ properties: { responseTopic: 'r/#' } }), 5, 'ERR_TOPIC_NAME_INVALID'],
  ['Subscription Identifier 0', pub({ properties: { subscriptionIdentifiers: [0] } }), 5, 'ERR_INVALID_ARGUMENT'],
  ['User Property not a pair', pub({ properties: { userProperties: [['a']] as never } }), 5, 'ERR_INVALID_ARGUMENT'],
  ['Correlation Data over 65,535 bytes', pub({ properties: { correlationData: Buffer.alloc(65_536) } }), 5, 'ERR_STRING_TOO_LONG'],
  ['Payload Format Indicator 2', pub({ properties: { payloadFormatIndicator: 2 as never } }), 5, 'ERR_INVALID_ARGUMENT'],
  ['subscriptionIdentifier (singular) on PUBLISH', pub({ properties: { subscriptionIdentifier: 1 } as never }), 5, 'ERR_INVALID_ARGUMENT'],
  [
    'Authentication Data without Method',
    { type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'c', properties: { authenticationData: Buffer.alloc(1) } },
    5,
    'ERR_AUTH_DATA_WITHOUT_METHOD',
  ],
  [
    'CONNECT level 6',
    { type: 'connect', protocolVersion: 6, clean: true, keepAlive: 0, clientId: 'c' },
    4,
    'ERR_UNSUPPORTED_PROTOCOL_VERSION',
  ],
  ['Keep Alive 65536', { type: 'connect', protocolVersion: 4, clean: true, keepAlive: 65_536, clientId: 'c' }, 4, 'ERR_INVALID_ARGUMENT'],
  [
    'empty client id with clean false [MQTT-3.1.3-7]',
    { type: 'connect', protocolVersion: 4, clean: false, keepAlive: 0, clientId: '' },
    4,
    'ERR_CLIENT_ID_INVALID',
  ],
  ['empty client id in 3.1', { type: 'connect', protocolVersion: 3, clean: true, keepAlive: 0, clientId: '' }, 3, 'ERR_CLIENT_ID_INVALID'],
  [
    'password without user name before 5.0 [MQTT-3.1.2-22]',
    { type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: 'c', password: Buffer.from('p') },
    4,
    'ERR_CONNECT_FLAGS',
  ],
  [
    'Will QoS 3',
    {
      type: 'connect',
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: 'c',
      will: { topic: 't', payload: Buffer.alloc(0), qos: 3, retain: false },
    },
    4,
    'ERR_QOS_INVALID',
  ],
  [
    'Will Topic with a wildcard',
    {
      type: 'connect',
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: 'c',
      will: { topic: 't/#', payload: Buffer.alloc(0), qos: 0, retain: false },
    },
    4,
    'ERR_TOPIC_NAME_INVALID',
  ],
  [
    'Topic Alias in the Will properties',
    {
      type: 'connect',
      protocolVersion: 5,
      clean: true,
      keepAlive: 0,
      clientId: 'c',
      will: { topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, properties: { topicAlias: 1 } },
    },
    5,
    'ERR_PROPERTY_NOT_ALLOWED',
  ],
  ['CONNACK return code 6 (3.1.1)', { type: 'connack', sessionPresent: false, reasonCode: 6 }, 4, 'ERR_REASON_CODE_INVALID'],
  ['CONNACK reason code 0x01 (5.0)', { type: 'connack', sessionPresent: false, reasonCode: 1 }, 5, 'ERR_REASON_CODE_INVALID'],
  ['Session Present with a failure code', { type: 'connack', sessionPresent: true, reasonCode: 0x87 }, 5, 'ERR_SESSION_PRESENT'],
  ['Session Present in 3.1', { type: 'connack', sessionPresent: true, reasonCode: 0 }, 3, 'ERR_CONNACK_FLAGS'],
  ['PUBACK reason code 0x92', { type: 'puback', packetId: 1, reasonCode: 0x92 }, 5, 'ERR_REASON_CODE_INVALID'],
  ['PUBREL packet id 0', { type: 'pubrel', packetId: 0 }, 4, 'ERR_PACKET_ID_ZERO'],
  ['SUBSCRIBE without subscriptions', { type: 'subscribe', packetId: 1, subscriptions: [] }, 4, 'ERR_EMPTY_PAYLOAD'],
  [
    "SUBSCRIBE filter 'a/#/b'",
    { type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'a/#/b', qos: 0 }] },
    4,
    'ERR_TOPIC_FILTER_INVALID',
  ],
  [
    'No Local on a Shared Subscription',
    { type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: '$share/g/a', qos: 0, noLocal: true }] },
    5,
    'ERR_NO_LOCAL_SHARED',
  ],
  [
    'Retain Handling 3',
    { type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'a', qos: 0, retainHandling: 3 }] },
    5,
    'ERR_RETAIN_HANDLING',
  ],
  [
    'subscriptionIdentifiers (plural) on SUBSCRIBE',
    { type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'a', qos: 0 }], properties: { subscriptionIdentifiers: [1] } },
    5,
    'ERR_INVALID_ARGUMENT',
  ],
  ['SUBACK code 0x03', { type: 'suback', packetId: 1, reasonCodes: [3] }, 4, 'ERR_REASON_CODE_INVALID'],
  ['SUBACK without codes', { type: 'suback', packetId: 1, reasonCodes: [] }, 5, 'ERR_EMPTY_PAYLOAD'],
  ['UNSUBSCRIBE without filters', { type: 'unsubscribe', packetId: 1, topicFilters: [] }, 4, 'ERR_EMPTY_PAYLOAD'],
  ["UNSUBSCRIBE filter 'a+'", { type: 'unsubscribe', packetId: 1, topicFilters: ['a+'] }, 4, 'ERR_TOPIC_FILTER_INVALID'],
  ['UNSUBACK 5.0 without codes', { type: 'unsuback', packetId: 1, reasonCodes: [] }, 5, 'ERR_EMPTY_PAYLOAD'],
  ['DISCONNECT reason code 0x01', { type: 'disconnect', reasonCode: 1 }, 5, 'ERR_REASON_CODE_INVALID'],
  ['AUTH before 5.0', { type: 'auth', reasonCode: 0 }, 4, 'ERR_RESERVED_PACKET_TYPE'],
  ['AUTH reason code 0x01', { type: 'auth', reasonCode: 1 }, 5, 'ERR_REASON_CODE_INVALID'],
  ['unknown packet type', { type: 'nope' }, 4, 'ERR_INVALID_ARGUMENT'],
  ['not an object', null, 4, 'ERR_INVALID_ARGUMENT'],
  ['protocol version 7', { type: 'pingreq' }, 7 as never, 'ERR_UNSUPPORTED_PROTOCOL_VERSION'],
];

describe('encode', () => {
  it.each(REFUSED)('refuses %s', (_name, p, version, code) => {
    expect(encodeError(p, version).code).toBe(code);
  });

  it('ignores MQTT 5-only fields below 5', () => {
    const p = pub({ properties: { contentType: 'x', userProperties: [['a', 'b']] } });
    expect(encode(p, 4).equals(encode(pub(), 4))).toBe(true);
    expect(encode({ type: 'puback', packetId: 1, reasonCode: 0x10, properties: { reasonString: 'r' } }, 4).toString('hex')).toBe(
      '40020001',
    );
    expect(encode({ type: 'disconnect', reasonCode: 0x04 }, 4).toString('hex')).toBe('e000');
    expect(encode({ type: 'unsuback', packetId: 1, reasonCodes: [0x11] }, 4).toString('hex')).toBe('b0020001');
  });

  it.each([
    [0x00, 0x00],
    [0x84, 0x01],
    [0x85, 0x02],
    [0x88, 0x03],
    [0x89, 0x03],
    [0x86, 0x04],
    [0x87, 0x05],
    [0x8a, 0x05],
    [0x8c, 0x05],
    [0x97, 0x03],
  ])('maps CONNACK reason code 0x%s to the 3.1.1 return code %s', (rc, v4) => {
    expect(decode(encode({ type: 'connack', sessionPresent: false, reasonCode: rc }, 4), 4)).toMatchObject({ reasonCode: v4 });
  });

  it('maps SUBACK failure reason codes to 0x80 below 5', () => {
    expect(decode(encode({ type: 'suback', packetId: 1, reasonCodes: [1, 0x97, 0xa2] }, 4), 4)).toMatchObject({
      reasonCodes: [1, 0x80, 0x80],
    });
  });

  it('writes the three- and four-byte Remaining Length forms', () => {
    const big = pub({ payload: Buffer.alloc(2_097_152 - 5) }); // Remaining Length exactly 2,097,152
    const bytes = encode(big, 4);
    expect([...bytes.subarray(0, 5)]).toEqual([0x30, 0x80, 0x80, 0x80, 0x01]);
    expect(bytes.length).toBe(packetSize(big, 4));
    expect(decode(bytes, 4)).toEqual(big);
    const mid = pub({ payload: Buffer.alloc(16_384 - 5) });
    expect([...encode(mid, 4).subarray(0, 4)]).toEqual([0x30, 0x80, 0x80, 0x01]);
  });

  it('encodeInto writes at an offset and refuses a target that is too small', () => {
    const target = Buffer.alloc(20, 0xee);
    const n = encodeInto({ type: 'pingreq' }, 4, target, 5);
    expect(n).toBe(2);
    expect([...target.subarray(4, 8)]).toEqual([0xee, 0xc0, 0x00, 0xee]);
    expect(() => encodeInto(pub(), 4, Buffer.alloc(4), 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const plain = new Uint8Array(16);
    expect(encodeInto(pub(), 4, plain, 1)).toBe(8);
    expect(decode(plain.subarray(1, 9), 4)).toEqual(pub());
  });

  it('encodePublishFrames returns the header and the payload itself (no copy)', () => {
    for (const version of [4, 5] as const) {
      const p = pub({ qos: 1, packetId: 9, retain: true, payload: Buffer.alloc(1000, 3), properties: { contentType: 'c' } });
      const [head, payload] = encodePublishFrames(p, version);
      expect(payload).toBe(p.payload);
      expect(Buffer.concat([head, payload]).equals(encode(p, version))).toBe(true);
    }
  });

  it('encodes non-ASCII strings and long ASCII strings exactly', () => {
    const p: Packet = {
      type: 'connect',
      protocolVersion: 5,
      clean: true,
      keepAlive: 1,
      clientId: 'ü'.repeat(30),
      username: 'x'.repeat(300),
      properties: { userProperties: [['ключ', '値']] },
    };
    expect(decode(encode(p, 5), 5)).toEqual(p);
  });
});
