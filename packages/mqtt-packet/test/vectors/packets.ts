// Byte-exact vectors: every packet type at every protocol level, including the examples given
// in the OASIS MQTT 3.1.1 and 5.0 specifications (marked "spec"). Each vector decodes to
// `packet`, and `packet` encodes to exactly these bytes unless `decodeOnly` (valid but
// non-canonical input, e.g. properties out of identifier order).
import type { Packet, ProtocolVersion } from '../../src/index.js';

export interface Vector {
  name: string;
  versions: ProtocolVersion[];
  hex: string;
  packet: Packet;
  decodeOnly?: boolean;
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

const b = (s: string) => Buffer.from(s);
const V34: ProtocolVersion[] = [3, 4];
const V345: ProtocolVersion[] = [3, 4, 5];

export const VECTORS: Vector[] = [
  // ------------------------------------------------------------------------------------ CONNECT
  {
    name: 'CONNECT 3.1 (MQIsdp, level 3), clean, keep alive 60',
    versions: [3],
    hex: '10 11 0006 4d5149736470 03 02 003c 0003 636964',
    packet: { type: 'connect', protocolVersion: 3, clean: true, keepAlive: 60, clientId: 'cid' },
  },
  {
    name: 'CONNECT 3.1.1 minimal, empty client id with CleanSession 1 [MQTT-3.1.3-6]',
    versions: [4],
    hex: '10 0c 0004 4d515454 04 02 003c 0000',
    packet: { type: 'connect', protocolVersion: 4, clean: true, keepAlive: 60, clientId: '' },
  },
  {
    // 3.1.1 §3.1.2.10 non-normative example: "MQTT", level 4, flags 0xCE, Keep Alive 10.
    name: 'spec 3.1.1 §3.1.2 variable header example (flags 0xCE, keep alive 10) with payload',
    versions: [4],
    hex: '10 1d 0004 4d515454 04 ce 000a 0003 636964 0002 7774 0002 776d 0001 75 0001 70',
    packet: {
      type: 'connect',
      protocolVersion: 4,
      clean: true,
      keepAlive: 10,
      clientId: 'cid',
      will: { topic: 'wt', payload: b('wm'), qos: 1, retain: false },
      username: 'u',
      password: b('p'),
    },
  },
  {
    name: 'CONNECT 3.1.1 bridge bit (level 0x84), will QoS 2 retained',
    versions: [4],
    hex: '10 17 0004 4d515454 84 34 0000 0001 62 0003 612f62 0003 627965',
    packet: {
      type: 'connect',
      protocolVersion: 4,
      bridge: true,
      clean: false,
      keepAlive: 0,
      clientId: 'b',
      will: { topic: 'a/b', payload: b('bye'), qos: 2, retain: true },
    },
  },
  {
    // 5.0 §3.1.2.11 non-normative example: flags 0xCE, Keep Alive 10, Session Expiry Interval 10.
    name: 'spec 5.0 §3.1.2 variable header example (0xCE, keep alive 10, Session Expiry 10)',
    versions: [5],
    hex: '10 24 0004 4d515454 05 ce 000a 05 11 0000000a 0003 636964 00 0002 7774 0002 776d 0001 75 0001 70',
    packet: {
      type: 'connect',
      protocolVersion: 5,
      clean: true,
      keepAlive: 10,
      clientId: 'cid',
      will: { topic: 'wt', payload: b('wm'), qos: 1, retain: false },
      username: 'u',
      password: b('p'),
      properties: { sessionExpiryInterval: 10 },
    },
  },
  {
    name: 'CONNECT 5.0 minimal',
    versions: [5],
    hex: '10 0d 0004 4d515454 05 02 003c 00 0000',
    packet: { type: 'connect', protocolVersion: 5, clean: true, keepAlive: 60, clientId: '' },
  },
  {
    name: 'CONNECT 5.0 password without user name (allowed since 5.0), will properties, auth method',
    versions: [5],
    hex:
      '10 2d 0004 4d515454 05 4c 0000' +
      ' 0c 15 0001 78 21 000a 27 00010000' + // Authentication Method "x", Receive Maximum 10, Maximum Packet Size 65536
      ' 0001 63' +
      ' 07 01 01 18 0000001e' + // Will: Payload Format Indicator 1, Will Delay Interval 30
      ' 0001 77 0002 6f6b' +
      ' 0002 7077',
    packet: {
      type: 'connect',
      protocolVersion: 5,
      clean: false,
      keepAlive: 0,
      clientId: 'c',
      properties: { receiveMaximum: 10, maximumPacketSize: 65_536, authenticationMethod: 'x' },
      will: { topic: 'w', payload: b('ok'), qos: 1, retain: false, properties: { payloadFormatIndicator: 1, willDelayInterval: 30 } },
      password: b('pw'),
    },
  },
  // ------------------------------------------------------------------------------------ CONNACK
  {
    name: 'CONNACK 3.1 accepted',
    versions: [3],
    hex: '20 02 00 00',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0 },
  },
  {
    name: 'CONNACK 3.1.1 session present',
    versions: [4],
    hex: '20 02 01 00',
    packet: { type: 'connack', sessionPresent: true, reasonCode: 0 },
  },
  {
    name: 'CONNACK 3.1/3.1.1 return code 0x04 bad user name or password',
    versions: V34,
    hex: '20 02 00 04',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 4 },
  },
  {
    name: 'CONNACK 5.0 success, no properties',
    versions: [5],
    hex: '20 03 00 00 00',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0 },
  },
  {
    name: 'CONNACK 5.0 with Topic Alias Maximum, Maximum QoS, Retain Available, Assigned Client Identifier',
    versions: [5],
    hex: '20 11 01 00 0e 12 0004 61626364 22 000a 24 01 25 00',
    packet: {
      type: 'connack',
      sessionPresent: true,
      reasonCode: 0,
      properties: { assignedClientIdentifier: 'abcd', topicAliasMaximum: 10, maximumQoS: 1, retainAvailable: false },
    },
  },
  {
    name: 'CONNACK 5.0 properties out of identifier order (decoded, re-encoded in order)',
    versions: [5],
    decodeOnly: true,
    hex: '20 0a 00 00 07 25 00 24 01 22 000a',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0, properties: { topicAliasMaximum: 10, maximumQoS: 1, retainAvailable: false } },
  },
  {
    name: 'CONNACK 5.0 0x87 Not authorized with Reason String',
    versions: [5],
    hex: '20 08 00 87 05 1f 0002 6e6f',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'no' } },
  },
  // ------------------------------------------------------------------------------------ PUBLISH
  {
    // 3.1.1 §1.5.3 / 5.0 §1.5.4 example: "A\u{2A6D4}" is 0x00 0x05 0x41 0xF0 0xAA 0x9B 0x94.
    name: 'spec UTF-8 example string "A𪛔" as a Topic Name',
    versions: V34,
    hex: '30 07 0005 41f0aa9b94',
    packet: { type: 'publish', topic: 'A\u{2a6d4}', payload: b(''), qos: 0, retain: false, dup: false },
  },
  {
    // 3.1.1 §3.3.2.3 example: Topic Name "a/b", Packet Identifier 10.
    name: 'spec 3.1.1 §3.3.2 PUBLISH variable header example (a/b, id 10), QoS 1',
    versions: V34,
    hex: '32 09 0003 612f62 000a 6869',
    packet: { type: 'publish', topic: 'a/b', payload: b('hi'), qos: 1, retain: false, dup: false, packetId: 10 },
  },
  {
    // 5.0 §3.3.2.3 example: Topic Name "a/b", Packet Identifier 10, Property Length 0.
    name: 'spec 5.0 §3.3.2 PUBLISH variable header example (a/b, id 10, no properties), QoS 2 DUP RETAIN',
    versions: [5],
    hex: '3d 08 0003 612f62 000a 00',
    packet: { type: 'publish', topic: 'a/b', payload: b(''), qos: 2, retain: true, dup: true, packetId: 10 },
  },
  {
    name: 'PUBLISH QoS 0 retained',
    versions: V34,
    hex: '31 07 0003 612f62 6869',
    packet: { type: 'publish', topic: 'a/b', payload: b('hi'), qos: 0, retain: true, dup: false },
  },
  {
    name: 'PUBLISH Remaining Length 128 (two-byte length, 3.1.1 §2.2.3 boundary)',
    versions: V34,
    hex: `30 80 01 0001 74 ${'78'.repeat(125)}`,
    packet: { type: 'publish', topic: 't', payload: Buffer.alloc(125, 0x78), qos: 0, retain: false, dup: false },
  },
  {
    name: 'PUBLISH 5.0 empty Topic Name with Topic Alias 5',
    versions: [5],
    hex: '30 07 0000 03 23 0005 78',
    packet: { type: 'publish', topic: '', payload: b('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 5 } },
  },
  {
    name: 'PUBLISH 5.0 Subscription Identifiers 1 and 16384, duplicate User Property names kept in order',
    versions: [5],
    hex: '30 18 0001 74 14 0b 01 0b 808001 26 0001 6b 0001 76 26 0001 6b 0001 77',
    packet: {
      type: 'publish',
      topic: 't',
      payload: b(''),
      qos: 0,
      retain: false,
      dup: false,
      properties: {
        subscriptionIdentifiers: [1, 16_384],
        userProperties: [
          ['k', 'v'],
          ['k', 'w'],
        ],
      },
    },
  },
  {
    name: 'PUBLISH 5.0 request/response properties',
    versions: [5],
    hex: '32 20 0001 74 0007 19 01 00 02 0000003c 03 0004 6a736f6e 08 0003 722f31 09 0002 0102 6b',
    packet: {
      type: 'publish',
      topic: 't',
      payload: b('k'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 7,
      properties: {
        payloadFormatIndicator: 0,
        messageExpiryInterval: 60,
        contentType: 'json',
        responseTopic: 'r/1',
        correlationData: Buffer.from([1, 2]),
      },
    },
  },
  // ------------------------------------------------------------------------------------ acks
  ...(['puback', 'pubrec', 'pubcomp'] as const).map(
    (type, i): Vector => ({
      name: `${type.toUpperCase()} 3.1/3.1.1`,
      versions: V34,
      hex: `${['40', '50', '70'][i]} 02 000a`,
      packet: { type, packetId: 10 },
    }),
  ),
  {
    name: 'PUBREL 3.1/3.1.1 (fixed-header flags 0010 [MQTT-3.6.1-1])',
    versions: V34,
    hex: '62 02 ffff',
    packet: { type: 'pubrel', packetId: 65_535 },
  },
  ...(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const).map(
    (type, i): Vector => ({
      name: `${type.toUpperCase()} 5.0 Success with Reason Code and properties omitted (5.0 §3.4.2.1)`,
      versions: [5],
      hex: `${['40', '50', '62', '70'][i]} 02 000a`,
      packet: { type, packetId: 10, reasonCode: 0 },
    }),
  ),
  {
    name: 'PUBACK 5.0 0x10 No matching subscribers, no properties (Remaining Length 3)',
    versions: [5],
    hex: '40 03 000a 10',
    packet: { type: 'puback', packetId: 10, reasonCode: 0x10 },
  },
  {
    name: 'PUBACK 5.0 Success with an empty property block (Remaining Length 4)',
    versions: [5],
    decodeOnly: true,
    hex: '40 04 000a 00 00',
    packet: { type: 'puback', packetId: 10, reasonCode: 0 },
  },
  {
    name: 'PUBREC 5.0 0x80 with Reason String',
    versions: [5],
    hex: '50 08 000a 80 04 1f 0001 78',
    packet: { type: 'pubrec', packetId: 10, reasonCode: 0x80, properties: { reasonString: 'x' } },
  },
  {
    name: 'PUBREL 5.0 0x92 Packet Identifier not found',
    versions: [5],
    hex: '62 03 000a 92',
    packet: { type: 'pubrel', packetId: 10, reasonCode: 0x92 },
  },
  {
    name: 'PUBCOMP 5.0 with User Property',
    versions: [5],
    hex: '70 0b 000a 00 07 26 0001 61 0001 62',
    packet: { type: 'pubcomp', packetId: 10, reasonCode: 0, properties: { userProperties: [['a', 'b']] } },
  },
  // ------------------------------------------------------------------------------------ SUBSCRIBE
  {
    // 3.1.1 §3.8.2 / §3.8.3 examples: Packet Identifier 10; "a/b" QoS 1, "c/d" QoS 2.
    name: 'spec 3.1.1 §3.8 SUBSCRIBE examples (id 10; a/b QoS 1, c/d QoS 2)',
    versions: V34,
    hex: '82 0e 000a 0003 612f62 01 0003 632f64 02',
    packet: {
      type: 'subscribe',
      packetId: 10,
      subscriptions: [
        { topicFilter: 'a/b', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'c/d', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    },
  },
  {
    // 5.0 §3.8.2 / §3.8.3 examples: Packet Identifier 10, Property Length 0; "a/b" 1, "c/d" 2.
    name: 'spec 5.0 §3.8 SUBSCRIBE examples (id 10, no properties; a/b 1, c/d 2)',
    versions: [5],
    hex: '82 0f 000a 00 0003 612f62 01 0003 632f64 02',
    packet: {
      type: 'subscribe',
      packetId: 10,
      subscriptions: [
        { topicFilter: 'a/b', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'c/d', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    },
  },
  {
    name: 'SUBSCRIBE 5.0 shared subscription, Retain As Published, Retain Handling 2, Subscription Identifier 5',
    versions: [5],
    hex: '82 14 0001 02 0b 05 000c 2473686172652f672f612f23 29',
    packet: {
      type: 'subscribe',
      packetId: 1,
      properties: { subscriptionIdentifier: 5 },
      subscriptions: [{ topicFilter: '$share/g/a/#', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 2 }],
    },
  },
  {
    name: 'SUBSCRIBE 5.0 No Local on a plain filter',
    versions: [5],
    hex: '82 07 0002 00 0001 23 04',
    packet: { type: 'subscribe', packetId: 2, subscriptions: [{ topicFilter: '#', qos: 0, noLocal: true, retainAsPublished: false, retainHandling: 0 }] },
  },
  // ------------------------------------------------------------------------------------ SUBACK
  {
    // 3.1.1 §3.9.3 example: Success QoS 0, Success QoS 2, Failure.
    name: 'spec 3.1.1 §3.9.3 SUBACK example (0x00, 0x02, 0x80)',
    versions: V34,
    hex: '90 05 000a 00 02 80',
    packet: { type: 'suback', packetId: 10, reasonCodes: [0, 2, 0x80] },
  },
  {
    name: 'SUBACK 5.0 Granted QoS 1, Granted QoS 2, 0xA2 Wildcard Subscriptions not supported',
    versions: [5],
    hex: '90 06 000a 00 01 02 a2',
    packet: { type: 'suback', packetId: 10, reasonCodes: [1, 2, 0xa2] },
  },
  // ------------------------------------------------------------------------------------ UNSUBSCRIBE
  {
    // 3.1.1 §3.10.3 example: "a/b", "c/d".
    name: 'spec 3.1.1 §3.10.3 UNSUBSCRIBE example (a/b, c/d)',
    versions: V34,
    hex: 'a2 0c 000a 0003 612f62 0003 632f64',
    packet: { type: 'unsubscribe', packetId: 10, topicFilters: ['a/b', 'c/d'] },
  },
  {
    // 5.0 §3.10.2 / §3.10.3 examples: Packet Identifier 10, Property Length 0; "a/b", "c/d".
    name: 'spec 5.0 §3.10 UNSUBSCRIBE examples (id 10, no properties; a/b, c/d)',
    versions: [5],
    hex: 'a2 0d 000a 00 0003 612f62 0003 632f64',
    packet: { type: 'unsubscribe', packetId: 10, topicFilters: ['a/b', 'c/d'] },
  },
  // ------------------------------------------------------------------------------------ UNSUBACK
  {
    name: 'UNSUBACK 3.1/3.1.1 (no payload)',
    versions: V34,
    hex: 'b0 02 000a',
    packet: { type: 'unsuback', packetId: 10, reasonCodes: [] },
  },
  {
    name: 'UNSUBACK 5.0 Success, 0x11 No subscription existed',
    versions: [5],
    hex: 'b0 05 000a 00 00 11',
    packet: { type: 'unsuback', packetId: 10, reasonCodes: [0, 0x11] },
  },
  // ------------------------------------------------------------------------------------ PING, DISCONNECT, AUTH
  { name: 'PINGREQ', versions: V345, hex: 'c0 00', packet: { type: 'pingreq' } },
  { name: 'PINGRESP', versions: V345, hex: 'd0 00', packet: { type: 'pingresp' } },
  { name: 'DISCONNECT 3.1/3.1.1', versions: V34, hex: 'e0 00', packet: { type: 'disconnect' } },
  {
    name: 'DISCONNECT 5.0 Normal disconnection, everything omitted (5.0 §3.14.2.1)',
    versions: [5],
    hex: 'e0 00',
    packet: { type: 'disconnect', reasonCode: 0 },
  },
  {
    name: 'DISCONNECT 5.0 0x04 Disconnect with Will Message, no properties (Remaining Length 1)',
    versions: [5],
    hex: 'e0 01 04',
    packet: { type: 'disconnect', reasonCode: 4 },
  },
  {
    name: 'DISCONNECT 5.0 with an empty property block',
    versions: [5],
    decodeOnly: true,
    hex: 'e0 02 00 00',
    packet: { type: 'disconnect', reasonCode: 0 },
  },
  {
    name: 'DISCONNECT 5.0 0x9C Use another server with Server Reference',
    versions: [5],
    hex: 'e0 0a 9c 08 1c 0005 686f737432',
    packet: { type: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'host2' } },
  },
  {
    name: 'AUTH 5.0 Success, everything omitted (5.0 §3.15.2.1)',
    versions: [5],
    hex: 'f0 00',
    packet: { type: 'auth', reasonCode: 0 },
  },
  {
    name: 'AUTH 5.0 0x18 Continue authentication, SCRAM method and data',
    versions: [5],
    hex: 'f0 0f 18 0d 15 0005 5343524d4d 16 0002 0102',
    packet: { type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRMM', authenticationData: Buffer.from([1, 2]) } },
  },
  {
    name: 'AUTH 5.0 0x19 Re-authenticate, Reason Code only',
    versions: [5],
    decodeOnly: true,
    hex: 'f0 01 19',
    packet: { type: 'auth', reasonCode: 0x19 },
  },
];
