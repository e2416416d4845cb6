import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeliveryOptions, decode, encode, type PublishPacket, PublishTemplate, type QoS } from '../src/index.js';
import * as arb from './arbitraries.js';

const base: PublishPacket = {
  type: 'publish',
  topic: 'sensors/t1',
  payload: Buffer.from('21.5'),
  qos: 1,
  retain: false,
  dup: false,
  packetId: 7,
  properties: { contentType: 'text/plain', userProperties: [['unit', 'C']], topicAlias: 4, subscriptionIdentifiers: [9] },
};

/** What a receiver must decode: the template packet with per-delivery settings applied. */
function expected(p: PublishPacket, version: 3 | 4 | 5, o: DeliveryOptions): PublishPacket {
  const qos = o.qos ?? p.qos;
  const { topicAlias: _a, subscriptionIdentifiers: _s, ...rest } = p.properties ?? {};
  let properties: PublishPacket['properties'] = rest;
  if (o.messageExpiryInterval !== undefined) properties = { ...properties, messageExpiryInterval: o.messageExpiryInterval };
  if (o.subscriptionIdentifiers !== undefined && o.subscriptionIdentifiers.length > 0) {
    properties = { ...properties, subscriptionIdentifiers: [...o.subscriptionIdentifiers] };
  }
  if (o.topicAlias !== undefined) properties = { ...properties, topicAlias: o.topicAlias };
  const out: PublishPacket = {
    type: 'publish',
    topic: o.omitTopic ? '' : p.topic,
    payload: p.payload,
    qos,
    retain: o.retain ?? p.retain,
    dup: o.dup ?? false,
    packetId: qos > 0 ? o.packetId : undefined,
  };
  if (version === 5 && Object.keys(properties).length > 0) out.properties = properties;
  return out;
}

describe('PublishTemplate', () => {
  it('returns the very same Buffer to every QoS 0 receiver with the same RETAIN flag', () => {
    const t = new PublishTemplate(base);
    const a = t.bytes(4, 0);
    expect(t.bytes(4, 0)).toBe(a);
    expect(t.bytes(3, 0)).toBe(a); // 3.1 and 3.1.1 share the PUBLISH wire format
    expect(t.bytes(4, 0, 0, true)).toBe(t.bytes(4, 0, 0, true));
    expect(t.bytes(4, 0, 0, true)).not.toBe(a);
    expect(t.bytes(5, 0)).toBe(t.bytes(5, 0));
    expect(decode(a, 4)).toEqual(expected(base, 4, { qos: 0, retain: false }));
    expect(decode(t.bytes(4, 0, 0, true), 4)).toEqual(expected(base, 4, { qos: 0, retain: true }));
    expect(decode(t.bytes(5, 0), 5)).toEqual(expected(base, 5, { qos: 0, retain: false }));
  });

  it('patches QoS, DUP, RETAIN and the packet id into independent copies', () => {
    const t = new PublishTemplate(base);
    const x = t.bytes(4, 1, 100);
    const y = t.bytes(4, 2, 65_535, true, true);
    expect(x).not.toBe(y);
    expect(decode(x, 4)).toEqual(expected(base, 4, { qos: 1, packetId: 100, retain: false }));
    expect(decode(y, 4)).toEqual(expected(base, 4, { qos: 2, packetId: 65_535, retain: true, dup: true }));
    expect(decode(t.bytes(5, 1, 3), 5)).toEqual(expected(base, 5, { qos: 1, packetId: 3, retain: false }));
  });

  it('frames() shares the payload (and the QoS 0 header) without copying', () => {
    const t = new PublishTemplate(base);
    const [h0, p0] = t.frames(4, 0);
    expect(p0).toBe(base.payload);
    expect(t.frames(4, 0)[0]).toBe(h0);
    expect(Buffer.concat([h0, p0]).equals(t.bytes(4, 0))).toBe(true);
    const [h1, p1] = t.frames(5, 2, 77, true);
    expect(p1).toBe(base.payload);
    expect(Buffer.concat([h1, p1]).equals(t.bytes(5, 2, 77, true))).toBe(true);
  });

  it('re-encodes only the variable header for MQTT 5 per-receiver properties', () => {
    const t = new PublishTemplate(base);
    const o: DeliveryOptions = { qos: 1, packetId: 5, subscriptionIdentifiers: [1, 200_000], topicAlias: 3, messageExpiryInterval: 30 };
    const bytes = t.encode(5, o);
    expect(decode(bytes, 5)).toEqual(expected(base, 5, o));
    expect(t.size(5, o)).toBe(bytes.length);
    const [head, payload] = t.framesFor(5, { ...o, omitTopic: true });
    expect(payload).toBe(base.payload);
    expect(decode(Buffer.concat([head, payload]), 5)).toEqual(expected(base, 5, { ...o, omitTopic: true }));
    // The same options below 5 are ignored: 3.1.1 has no properties.
    expect(decode(t.encode(4, o), 4)).toEqual(expected(base, 4, o));
  });

  it('patches an existing Message Expiry Interval in place', () => {
    const withMei: PublishPacket = { ...base, properties: { payloadFormatIndicator: 1, messageExpiryInterval: 3600, contentType: 'x' } };
    const t = new PublishTemplate(withMei);
    const o = { qos: 0 as QoS, messageExpiryInterval: 1234 };
    expect(t.size(5, o)).toBe(t.bytes(5, 0).length);
    expect(decode(t.encode(5, o), 5)).toEqual(expected(withMei, 5, o));
  });

  it('delivers generated packets with generated options exactly (property)', () => {
    const options = fc.record(
      {
        qos: arb.qos,
        packetId: arb.packetId,
        retain: fc.boolean(),
        dup: fc.boolean(),
        subscriptionIdentifiers: fc.array(fc.integer({ min: 1, max: 268_435_455 }), { maxLength: 3 }),
        topicAlias: fc.integer({ min: 1, max: 65_535 }),
        omitTopic: fc.boolean(),
        messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
      },
      { requiredKeys: ['qos', 'packetId'] },
    );
    fc.assert(
      fc.property(arb.publish(5), options, fc.constantFrom<3 | 4 | 5>(3, 4, 5), (p, o, version) => {
        const packet = p as PublishPacket;
        if (packet.topic === '') return; // a template needs the full topic
        const opts: DeliveryOptions = { ...o, dup: o.qos > 0 && o.dup === true };
        if (opts.omitTopic && opts.topicAlias === undefined) opts.omitTopic = false;
        if (version !== 5) opts.omitTopic = false;
        const t = new PublishTemplate(packet);
        const bytes = t.encode(version, opts);
        expect(bytes.length).toBe(t.size(version, opts));
        expect(decode(bytes, version)).toEqual(expected(packet, version, opts));
      }),
      { numRuns: 500 },
    );
  });

  it('validates deliveries', () => {
    const t = new PublishTemplate(base);
    expect(() => t.bytes(4, 1)).toThrow(expect.objectContaining({ code: 'ERR_PACKET_ID_ZERO' }));
    expect(() => t.bytes(4, 0, 0, false, true)).toThrow(expect.objectContaining({ code: 'ERR_DUP_QOS0' }));
    expect(() => t.bytes(4, 3 as never, 1)).toThrow(expect.objectContaining({ code: 'ERR_QOS_INVALID' }));
    expect(() => t.encode(5, { qos: 0, omitTopic: true })).toThrow(expect.objectContaining({ code: 'ERR_TOPIC_NAME_EMPTY' }));
    expect(() => t.encode(5, { qos: 0, topicAlias: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new PublishTemplate({ ...base, topic: '' })).toThrow(expect.objectContaining({ code: 'ERR_TOPIC_NAME_INVALID' }));
    expect(() => new PublishTemplate({ ...base, topic: 'a/#' })).toThrow(expect.objectContaining({ code: 'ERR_TOPIC_NAME_INVALID' }));
  });

  it('matches encode() for the plain delivery', () => {
    const p: PublishPacket = { ...base, properties: { contentType: 'x' } };
    const t = new PublishTemplate(p);
    expect(t.bytes(5, 1, 7).equals(encode(p, 5))).toBe(true);
    expect(t.bytes(4, 1, 7).equals(encode(p, 4))).toBe(true);
  });
});
