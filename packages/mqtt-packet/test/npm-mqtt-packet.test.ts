// Interop with npm `mqtt-packet` (v9, the codec under MQTT.js and Aedes): packets produced by
// its generator decode identically with ours, and ours parse identically with its parser, for
// every packet type at every protocol level. Field names are mapped (messageId/packetId,
// keepalive/keepAlive, granted/reasonCodes, cmd/type, …). Its representational limits are
// normalised or excluded, each one named below:
//   Q1 User Properties are an object {name: value | value[]}: names come back grouped, in
//      JavaScript key order (integer-like names such as "0" first); order per name is kept.
//   Q2 Its parser keeps only the last value of a repeated User Property name when the earlier
//      value is the empty string (it tests truthiness); generated values are non-empty here.
//   Q3 Its generator refuses a 5.0 CONNECT with a password but no user name (5.0 allows it).
//   Q4 Its parser rejects AUTH with Remaining Length 0 (Success, no properties), which 5.0
//      §3.15.2.1 allows and which we emit as the canonical form.
//   Q6 Its generator refuses an empty client id with clean false even in 5.0 (where the server
//      then assigns one, [MQTT-3.1.3-6]).
//   Q7 Its generator writes a bridge-mode (0x80) 5.0 CONNECT with level 3 and no properties.
//   Q5 Its parser reads the DISCONNECT reason code and property length against the whole
//      buffered stream rather than the packet, so each packet is parsed by a fresh parser here.
import fc from 'fast-check';
import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decode, encode, type Packet, type Properties, type ProtocolVersion, type UserProperties } from '../src/index.js';
import * as arb from './arbitraries.js';

type Theirs = Record<string, unknown> & { cmd: string };

function userPropsToTheirs(list: UserProperties): Record<string, string | string[]> {
  const o: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of list) {
    const prev = o[k];
    o[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return o;
}

function propsToTheirs(p: Properties | undefined): Record<string, unknown> | undefined {
  if (p === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (k === 'payloadFormatIndicator') out[k] = v === 1;
    else if (k === 'userProperties') out[k] = userPropsToTheirs(v as UserProperties);
    else if (k === 'subscriptionIdentifiers') out.subscriptionIdentifier = (v as number[]).length === 1 ? (v as number[])[0] : v;
    else out[k] = v;
  }
  return out;
}

function propsFromTheirs(p: Record<string, unknown> | undefined, context: 'publish' | 'other'): Properties | undefined {
  if (p === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'payloadFormatIndicator') out[k] = v ? 1 : 0;
    else if (k === 'userProperties') {
      const list: UserProperties = [];
      for (const [name, val] of Object.entries(v as Record<string, string | string[]>)) {
        for (const one of Array.isArray(val) ? val : [val]) list.push([name, one]);
      }
      out[k] = list;
    } else if (k === 'subscriptionIdentifier' && context === 'publish') out.subscriptionIdentifiers = Array.isArray(v) ? v : [v];
    else out[k] = v;
  }
  return Object.keys(out).length ? (out as Properties) : undefined;
}

/** Our packet in mqtt-packet's shape. */
export function toTheirs(p: Packet, version: ProtocolVersion): Theirs {
  switch (p.type) {
    case 'connect':
      return {
        cmd: 'connect',
        protocolId: p.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
        protocolVersion: p.protocolVersion,
        bridgeMode: p.bridge,
        clean: p.clean,
        keepalive: p.keepAlive,
        clientId: p.clientId,
        username: p.username,
        password: p.password,
        will: p.will && { ...p.will, properties: propsToTheirs(p.will.properties) },
        properties: propsToTheirs(p.properties),
      };
    case 'connack':
      return {
        cmd: 'connack',
        sessionPresent: p.sessionPresent,
        [version === 5 ? 'reasonCode' : 'returnCode']: p.reasonCode,
        properties: propsToTheirs(p.properties),
      };
    case 'publish':
      return {
        cmd: 'publish',
        topic: p.topic,
        payload: p.payload,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        messageId: p.packetId,
        properties: propsToTheirs(p.properties),
      };
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return { cmd: p.type, messageId: p.packetId, reasonCode: p.reasonCode ?? 0, properties: propsToTheirs(p.properties) };
    case 'subscribe':
      return {
        cmd: 'subscribe',
        messageId: p.packetId,
        subscriptions: p.subscriptions.map((s) => ({
          topic: s.topicFilter,
          qos: s.qos,
          nl: s.noLocal,
          rap: s.retainAsPublished,
          rh: s.retainHandling,
        })),
        properties: propsToTheirs(p.properties),
      };
    case 'suback':
    case 'unsuback':
      return { cmd: p.type, messageId: p.packetId, granted: p.reasonCodes, properties: propsToTheirs(p.properties) };
    case 'unsubscribe':
      return { cmd: 'unsubscribe', messageId: p.packetId, unsubscriptions: p.topicFilters, properties: propsToTheirs(p.properties) };
    case 'disconnect':
    case 'auth':
      return { cmd: p.type, reasonCode: p.reasonCode ?? 0, properties: propsToTheirs(p.properties) };
    default:
      return { cmd: p.type };
  }
}

/** A packet parsed by mqtt-packet, in our shape. */
export function fromTheirs(t: Theirs, version: ProtocolVersion): Packet {
  const props = (x: unknown) => propsFromTheirs(x as Record<string, unknown> | undefined, t.cmd === 'publish' ? 'publish' : 'other');
  switch (t.cmd) {
    case 'connect': {
      const w = t.will as Record<string, unknown> | undefined;
      return {
        type: 'connect',
        protocolVersion: t.protocolVersion as ProtocolVersion,
        bridge: t.bridgeMode ? true : undefined,
        clean: t.clean as boolean,
        keepAlive: t.keepalive as number,
        clientId: t.clientId as string,
        username: t.username as string | undefined,
        password: t.password as Buffer | undefined,
        will: w && {
          topic: w.topic as string,
          payload: w.payload as Buffer,
          qos: w.qos as 0,
          retain: w.retain as boolean,
          properties: propsFromTheirs(w.properties as Record<string, unknown> | undefined, 'publish'),
        },
        properties: props(t.properties),
      };
    }
    case 'connack':
      return {
        type: 'connack',
        sessionPresent: t.sessionPresent as boolean,
        reasonCode: (version === 5 ? t.reasonCode : t.returnCode) as number,
        properties: props(t.properties),
      };
    case 'publish':
      return {
        type: 'publish',
        topic: t.topic as string,
        payload: t.payload as Buffer,
        qos: t.qos as 0,
        retain: t.retain as boolean,
        dup: t.dup as boolean,
        packetId: t.messageId as number | undefined,
        properties: props(t.properties),
      };
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return {
        type: t.cmd,
        packetId: t.messageId as number,
        reasonCode: version === 5 ? ((t.reasonCode as number | undefined) ?? 0) : undefined,
        properties: props(t.properties),
      };
    case 'subscribe':
      return {
        type: 'subscribe',
        packetId: t.messageId as number,
        subscriptions: (t.subscriptions as Record<string, unknown>[]).map((s) => ({
          topicFilter: s.topic as string,
          qos: s.qos as 0,
          noLocal: Boolean(s.nl),
          retainAsPublished: Boolean(s.rap),
          retainHandling: ((s.rh as number | undefined) ?? 0) as 0,
        })),
        properties: props(t.properties),
      };
    case 'suback':
      return { type: 'suback', packetId: t.messageId as number, reasonCodes: t.granted as number[], properties: props(t.properties) };
    case 'unsuback':
      return {
        type: 'unsuback',
        packetId: t.messageId as number,
        reasonCodes: (t.granted as number[] | undefined) ?? [],
        properties: props(t.properties),
      };
    case 'unsubscribe':
      return {
        type: 'unsubscribe',
        packetId: t.messageId as number,
        topicFilters: t.unsubscriptions as string[],
        properties: props(t.properties),
      };
    case 'disconnect':
      return version === 5
        ? { type: 'disconnect', reasonCode: t.reasonCode as number, properties: props(t.properties) }
        : { type: 'disconnect' };
    case 'auth':
      return { type: 'auth', reasonCode: t.reasonCode as number, properties: props(t.properties) };
    default:
      return { type: t.cmd as 'pingreq' };
  }
}

/** Q1: User Properties as they come back from the object form. */
function grouped(list: UserProperties): UserProperties {
  return Object.entries(userPropsToTheirs(list)).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one): [string, string] => [k, one]));
}

function normalise(p: Packet): Packet {
  const fix = <T extends { properties?: Properties }>(x: T): T =>
    x.properties?.userProperties ? { ...x, properties: { ...x.properties, userProperties: grouped(x.properties.userProperties) } } : x;
  let out = fix(p as Packet & { properties?: Properties });
  if (out.type === 'connect' && out.will) out = { ...out, will: fix(out.will) };
  return out;
}

/** Q2: non-empty User Property values; Q3, Q6, Q7 when their generator is used. */
function representable(p: Packet, theirGenerator = false): boolean {
  const ok = (props?: Properties) => !props?.userProperties?.some(([, v]) => v === '');
  if (p.type === 'connect') {
    if (theirGenerator && p.protocolVersion === 5 && p.password !== undefined && p.username === undefined) return false; // Q3
    if (theirGenerator && p.clientId === '' && !p.clean) return false; // Q6
    if (theirGenerator && p.protocolVersion === 5 && p.bridge) return false; // Q7
    if (!ok(p.will?.properties)) return false;
  }
  return ok((p as { properties?: Properties }).properties);
}

/** Parses one packet with a fresh mqtt-packet parser (Q5). */
function theirParse(bytes: Buffer, version: ProtocolVersion): Theirs {
  const parser = mqtt.parser({ protocolVersion: version });
  const got: Theirs[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p) => got.push(p as unknown as Theirs));
  parser.on('error', (e) => errors.push(e));
  parser.parse(bytes);
  if (errors.length) throw errors[0];
  expect(got).toHaveLength(1);
  return got[0] as Theirs;
}

const VERSIONS: ProtocolVersion[] = [3, 4, 5];
const TYPES = (v: ProtocolVersion): [string, fc.Arbitrary<Packet>][] => [
  ['CONNECT', arb.connect(v)],
  ['CONNACK', arb.connack(v)],
  ['PUBLISH', arb.publish(v)],
  ['PUBACK', arb.ack(v, 'puback')],
  ['PUBREC', arb.ack(v, 'pubrec')],
  ['PUBREL', arb.ack(v, 'pubrel')],
  ['PUBCOMP', arb.ack(v, 'pubcomp')],
  ['SUBSCRIBE', arb.subscribe(v)],
  ['SUBACK', arb.suback(v)],
  ['UNSUBSCRIBE', arb.unsubscribe(v)],
  ['UNSUBACK', arb.unsuback(v)],
  ['PINGREQ', fc.constant({ type: 'pingreq' } as Packet)],
  ['PINGRESP', fc.constant({ type: 'pingresp' } as Packet)],
  ['DISCONNECT', arb.disconnect(v)],
  ...(v === 5 ? ([['AUTH', arb.auth()]] as [string, fc.Arbitrary<Packet>][]) : []),
];

describe.each(VERSIONS)('npm mqtt-packet interop, protocol level %i', (version) => {
  describe.each(TYPES(version))('%s', (_name, packets) => {
    it('their generator -> our decoder', () => {
      fc.assert(
        fc.property(packets, (p) => {
          fc.pre(representable(p, true));
          const bytes = mqtt.generate(toTheirs(p, version) as never, { protocolVersion: version });
          expect(decode(bytes, version)).toEqual(normalise(p));
        }),
        { numRuns: 150 },
      );
    });

    it('our encoder -> their parser', () => {
      fc.assert(
        fc.property(packets, (p) => {
          fc.pre(representable(p));
          fc.pre(!(p.type === 'auth' && p.reasonCode === 0 && p.properties === undefined)); // Q4
          expect(fromTheirs(theirParse(encode(p, version), version), version)).toEqual(normalise(p));
        }),
        { numRuns: 150 },
      );
    });
  });
});

describe('npm mqtt-packet differences (documented, theirs)', () => {
  it('Q4: their parser rejects AUTH with Remaining Length 0, which 5.0 §3.15.2.1 allows', () => {
    const bytes = encode({ type: 'auth', reasonCode: 0 }, 5);
    expect(bytes.toString('hex')).toBe('f000');
    expect(decode(bytes, 5)).toEqual({ type: 'auth', reasonCode: 0 });
    expect(() => theirParse(bytes, 5)).toThrow(/auth reason code/);
  });

  it('Q1: their object form groups interleaved User Property names', () => {
    const p: Packet = {
      type: 'puback',
      packetId: 1,
      reasonCode: 0,
      properties: {
        userProperties: [
          ['a', '1'],
          ['b', '2'],
          ['a', '3'],
        ],
      },
    };
    const theirs = theirParse(encode(p, 5), 5);
    expect((theirs.properties as Record<string, unknown>).userProperties).toEqual({ a: ['1', '3'], b: '2' });
    // We keep wire order, as [MQTT-3.3.2-18] requires of a forwarding server.
    expect(decode(encode(p, 5), 5)).toEqual(p);
  });

  it('Q3, Q6, Q7: their generator limits at 5.0 CONNECT', () => {
    const c = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 0, clientId: 'c' };
    expect(() => mqtt.generate({ ...c, password: Buffer.from('p') } as never, { protocolVersion: 5 })).toThrow(/Username is required/);
    expect(() => mqtt.generate({ ...c, clientId: '', clean: false } as never, { protocolVersion: 5 })).toThrow(/clientId must be given/);
    const bridged = mqtt.generate({ ...c, bridgeMode: true } as never, { protocolVersion: 5 });
    expect(bridged[8]).toBe(3); // level byte: 3, not 0x85
    // Ours encodes all three.
    for (const p of [
      { type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'c', password: Buffer.from('p') },
      { type: 'connect', protocolVersion: 5, clean: false, keepAlive: 0, clientId: '' },
      { type: 'connect', protocolVersion: 5, bridge: true, clean: true, keepAlive: 0, clientId: 'c' },
    ] as Packet[]) {
      expect(decode(encode(p, 5), 5)).toEqual(p);
    }
  });

  it('they accept what we reject: a wildcard Topic Name, U+0000, QoS 0 with DUP', () => {
    for (const hex of ['30050003612f2b', '300500036100 62'.replace(' ', ''), '3805000361 2f62'.replace(' ', '')]) {
      const bytes = Buffer.from(hex, 'hex');
      expect(() => theirParse(bytes, 4)).not.toThrow();
      expect(() => decode(bytes, 4)).toThrow();
    }
  });
});
