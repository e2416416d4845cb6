// Broker behaviour beyond single normative statements (events, hooks, session JSON, MQTT 3.1,
// limits), kept from the first conformance suite; ids cited here are informative only. The
// statement-by-statement suite is ../v311 (MQTT 3.1.1) and ../v5 (MQTT 5.0), see ../statements.ts.
// PUBLISH and the QoS flows, retained messages, topic rules, MQTT 5 publish features.
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';

async function subscriber(port: number, filter: string, qos: 0 | 1 | 2 = 0, version: 4 | 5 = 4, extra = {}) {
  const { client } = await RawClient.connect(port, { protocolVersion: version, ...extra });
  client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: filter, qos }] });
  await client.next('suback');
  return client;
}

describe('PUBLISH validation: the connection is closed', () => {
  it('[MQTT-3.3.1-2] DUP set on QoS 0', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x38, 0x05, 0x00, 0x01, 0x61, 0x78, 0x79]);
    await client.expectClose();
  });
  it('[MQTT-3.3.1-4] QoS 3 (5.0: DISCONNECT 0x81)', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.sendRaw([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]);
    expect((await client.next('disconnect')).reasonCode).toBe(0x81);
    await client.expectClose();
  });
  it('[MQTT-3.3.2-2] a wildcard in the Topic Name', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x23]);
    await client.expectClose();
  });
  it('[MQTT-2.3.1-1] packet identifier 0 on QoS 1', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00]);
    await client.expectClose();
  });
  it('[MQTT-1.5.3-1] ill-formed UTF-8 in the Topic Name', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf]);
    await client.expectClose();
  });
  it('5.0 §3.2.2.3.6 a packet over the broker Maximum Packet Size gets DISCONNECT 0x95', async () => {
    const { port } = await startBroker({ limits: { maxPacketSize: 1024 } });
    const { client, connack } = await RawClient.connect(port, { protocolVersion: 5 });
    expect(connack.properties?.maximumPacketSize).toBe(1024);
    client.send({ type: 'publish', topic: 'big', payload: Buffer.alloc(2000), qos: 0, retain: false, dup: false });
    expect((await client.next('disconnect')).reasonCode).toBe(0x95);
  });
  it('topic over maxTopicLevels: 5.0 QoS 1 gets PUBACK 0x90 and stays connected', async () => {
    const { port } = await startBroker({ limits: { maxTopicLevels: 3 } });
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.send({ type: 'publish', topic: 'a/b/c/d', payload: Buffer.alloc(1), qos: 1, retain: false, dup: false, packetId: 5 });
    expect((await client.next('puback')).reasonCode).toBe(0x90);
  });
  it('a bad packet closes only its own connection', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 't');
    const { client: bad } = await RawClient.connect(port);
    bad.sendRaw([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]); // Remaining Length over 4 bytes
    await bad.expectClose();
    const { client: good } = await RawClient.connect(port);
    good.send({ type: 'publish', topic: 't', payload: Buffer.from('fine'), qos: 0, retain: false, dup: false });
    expect((await sub.next('publish')).payload.toString()).toBe('fine');
  });
});

describe('QoS flows', () => {
  it('[MQTT-4.3.3-9] a re-sent QoS 2 PUBLISH (DUP) before PUBREL is acknowledged but not forwarded twice', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 'q2', 2);
    const { client: pub } = await RawClient.connect(port);
    const p = {
      type: 'publish' as const,
      topic: 'q2',
      payload: Buffer.from('once'),
      qos: 2 as const,
      retain: false,
      dup: false,
      packetId: 9,
    };
    pub.send(p);
    await pub.next('pubrec');
    pub.send({ ...p, dup: true });
    expect((await pub.next('pubrec')).packetId).toBe(9);
    pub.send({ type: 'pubrel', packetId: 9 });
    await pub.next('pubcomp');
    const m = await sub.next('publish');
    sub.send({ type: 'pubrec', packetId: m.packetId! });
    await sub.next('pubrel');
    expect(await sub.none('publish', 300)).toBe(true);
  });

  it('3.1.1 [MQTT-3.8.4-6] delivery QoS is the minimum of publish QoS and granted QoS', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 'min', 1);
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'min', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, packetId: 1 });
    const m = await sub.next('publish');
    expect(m.qos).toBe(1);
  });

  it('3.1.1 [MQTT-3.3.5-1] overlapping subscriptions: one delivery at the highest QoS', async () => {
    const { port } = await startBroker();
    const { client: sub } = await RawClient.connect(port);
    sub.send({
      type: 'subscribe',
      packetId: 1,
      subscriptions: [
        { topicFilter: 'o/+', qos: 0 },
        { topicFilter: 'o/#', qos: 1 },
      ],
    });
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'o/x', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1 });
    expect((await sub.next('publish')).qos).toBe(1);
    expect(await sub.none('publish', 300)).toBe(true);
  });

  it('[MQTT-3.3.4-3] 5.0 overlapping subscriptions: one delivery carrying every Subscription Identifier', async () => {
    const { port } = await startBroker();
    const { client: sub } = await RawClient.connect(port, { protocolVersion: 5 });
    sub.send({
      type: 'subscribe',
      packetId: 1,
      subscriptions: [{ topicFilter: 'o/+', qos: 0 }],
      properties: { subscriptionIdentifier: 7 },
    });
    await sub.next('suback');
    sub.send({
      type: 'subscribe',
      packetId: 2,
      subscriptions: [{ topicFilter: 'o/#', qos: 1 }],
      properties: { subscriptionIdentifier: 9 },
    });
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'o/x', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1 });
    const m = await sub.next('publish');
    expect(m.properties?.subscriptionIdentifiers?.sort()).toEqual([7, 9]);
    expect(await sub.none('publish', 300)).toBe(true);
  });

  it('5.0 Receive Maximum: no more unacknowledged QoS 1 PUBLISH than the client allows [MQTT-3.3.4-9]', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 'rm', 1, 5, { properties: { receiveMaximum: 2 } });
    const { client: pub } = await RawClient.connect(port);
    for (let i = 1; i <= 5; i++)
      pub.send({ type: 'publish', topic: 'rm', payload: Buffer.from(String(i)), qos: 1, retain: false, dup: false, packetId: i });
    const a = await sub.next('publish');
    const b = await sub.next('publish');
    expect(await sub.none('publish', 300)).toBe(true);
    sub.send({ type: 'puback', packetId: a.packetId! });
    const c = await sub.next('publish');
    expect([a, b, c].map((m) => m.payload.toString())).toEqual(['1', '2', '3']);
    sub.send({ type: 'puback', packetId: b.packetId! });
    sub.send({ type: 'puback', packetId: c.packetId! });
    expect((await sub.next('publish')).payload.toString()).toBe('4');
  });

  it('5.0 Receive Maximum of the broker: exceeding it with QoS 2 is DISCONNECT 0x93 (the client broke [MQTT-3.3.4-7])', async () => {
    const { port } = await startBroker({ receiveMaximum: 2 });
    const { client, connack } = await RawClient.connect(port, { protocolVersion: 5 });
    expect(connack.properties?.receiveMaximum).toBe(2);
    for (let i = 1; i <= 3; i++)
      client.send({ type: 'publish', topic: 'r', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, packetId: i });
    expect((await client.next('disconnect')).reasonCode).toBe(0x93);
  });

  it('5.0 Maximum Packet Size of the client: larger messages are not sent to it [MQTT-3.1.2-24]', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 'mps', 1, 5, { properties: { maximumPacketSize: 100 } });
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'mps', payload: Buffer.alloc(500), qos: 1, retain: false, dup: false, packetId: 1 });
    pub.send({ type: 'publish', topic: 'mps', payload: Buffer.from('small'), qos: 1, retain: false, dup: false, packetId: 2 });
    expect((await sub.next('publish')).payload.toString()).toBe('small');
  });

  it('5.0 "No matching subscribers" (0x10) in PUBACK', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.send({ type: 'publish', topic: 'nobody', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1 });
    expect((await client.next('puback')).reasonCode).toBe(0x10);
  });
});

describe('Retained messages (3.3.1.3)', () => {
  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-9] stored, sent to new subscribers with RETAIN=1; existing subscribers get RETAIN=0 [MQTT-3.3.1-12]', async () => {
    const { port } = await startBroker();
    const existing = await subscriber(port, 'r/#');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'r/1', payload: Buffer.from('v1'), qos: 1, retain: true, dup: false, packetId: 1 });
    await pub.next('puback');
    expect((await existing.next('publish')).retain).toBe(false);
    const late = await subscriber(port, 'r/+', 1);
    const m = await late.next('publish');
    expect([m.retain, m.payload.toString(), m.qos]).toEqual([true, 'v1', 1]);
  });
  it('[MQTT-3.3.1-7] a new retained message replaces the old one', async () => {
    const { broker, port } = await startBroker();
    const { client: pub } = await RawClient.connect(port);
    for (const v of ['a', 'b']) {
      pub.send({ type: 'publish', topic: 'rr', payload: Buffer.from(v), qos: 1, retain: true, dup: false, packetId: 1 });
      await pub.next('puback');
    }
    expect(broker.messages.get('rr')?.payload.toString()).toBe('b');
    expect(broker.messages.size).toBe(1);
  });
  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] an empty retained payload deletes it and is not stored', async () => {
    const { broker, port } = await startBroker();
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'rd', payload: Buffer.from('x'), qos: 1, retain: true, dup: false, packetId: 1 });
    await pub.next('puback');
    pub.send({ type: 'publish', topic: 'rd', payload: Buffer.alloc(0), qos: 1, retain: true, dup: false, packetId: 2 });
    await pub.next('puback');
    expect(broker.messages.has('rd')).toBe(false);
    const late = await subscriber(port, 'rd');
    expect(await late.none('publish', 200)).toBe(true);
  });
  it('5.0 Retain Handling 2 sends no retained messages; 1 only for a new subscription; Retain As Published keeps RETAIN', async () => {
    const { port } = await startBroker();
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'rh', payload: Buffer.from('x'), qos: 1, retain: true, dup: false, packetId: 1 });
    await pub.next('puback');
    const { client: c } = await RawClient.connect(port, { protocolVersion: 5 });
    c.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'rh', qos: 0, retainHandling: 2 }] });
    await c.next('suback');
    expect(await c.none('publish', 200)).toBe(true);
    c.send({ type: 'subscribe', packetId: 2, subscriptions: [{ topicFilter: 'rh', qos: 0, retainHandling: 1 }] });
    await c.next('suback');
    expect(await c.none('publish', 200)).toBe(true); // not new: replaced
    c.send({
      type: 'subscribe',
      packetId: 3,
      subscriptions: [{ topicFilter: 'rh/#', qos: 0, retainHandling: 1, retainAsPublished: true }],
    });
    await c.next('suback');
    expect((await c.next('publish')).retain).toBe(true);
    pub.send({ type: 'publish', topic: 'rh', payload: Buffer.from('y'), qos: 0, retain: true, dup: false });
    // rh and rh/# both match: one copy; Retain As Published on one of them keeps RETAIN=1.
    expect((await c.next('publish')).retain).toBe(true);
  });
});

describe('Topics (4.7)', () => {
  it('[MQTT-4.7.2-1] filters starting with a wildcard do not match $ topics', async () => {
    const { port } = await startBroker();
    const all = await subscriber(port, '#');
    const sys = await subscriber(port, '$SYS/#');
    await (await broker(port)).publish('$SYS/x');
    expect((await sys.next('publish')).topic).toBe('$SYS/x');
    expect(await all.none('publish', 200)).toBe(true);
  });
  it('[MQTT-4.7.1-2] "#" matches the parent level; "+" one level; case-sensitive [MQTT-4.7.3-4]', async () => {
    const { port } = await startBroker();
    const hash = await subscriber(port, 'sport/#');
    const plus = await subscriber(port, 'sport/+');
    const p = await broker(port);
    await p.publish('sport');
    expect((await hash.next('publish')).topic).toBe('sport');
    await p.publish('sport/tennis');
    expect((await hash.next('publish')).topic).toBe('sport/tennis');
    expect((await plus.next('publish')).topic).toBe('sport/tennis');
    await p.publish('SPORT/tennis');
    expect(await hash.none('publish', 200)).toBe(true);
  });
  it('5.0 No Local: own messages are not delivered back', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5, clientId: 'self' });
    client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'nl', qos: 0, noLocal: true }] });
    await client.next('suback');
    client.send({ type: 'publish', topic: 'nl', payload: Buffer.from('me'), qos: 0, retain: false, dup: false });
    expect(await client.none('publish', 300)).toBe(true);
  });
});

describe('MQTT 5 message features', () => {
  it('topic alias from the client: established, then used with an empty topic; unknown alias → 0x82; over the maximum → 0x94', async () => {
    const { port } = await startBroker({ topicAliasMaximum: 4 });
    const sub = await subscriber(port, 'ta/#');
    const { client, connack } = await RawClient.connect(port, { protocolVersion: 5 });
    expect(connack.properties?.topicAliasMaximum).toBe(4);
    client.send({
      type: 'publish',
      topic: 'ta/1',
      payload: Buffer.from('a'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 2 },
    });
    client.send({
      type: 'publish',
      topic: '',
      payload: Buffer.from('b'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 2 },
    });
    expect((await sub.next('publish')).topic).toBe('ta/1');
    expect((await sub.next('publish')).topic).toBe('ta/1');
    client.send({
      type: 'publish',
      topic: '',
      payload: Buffer.from('c'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 3 },
    });
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
    const { client: c2 } = await RawClient.connect(port, { protocolVersion: 5 });
    c2.send({ type: 'publish', topic: 'x', payload: Buffer.from('c'), qos: 0, retain: false, dup: false, properties: { topicAlias: 5 } });
    expect((await c2.next('disconnect')).reasonCode).toBe(0x94);
  });

  it('request/response: Response Topic, Correlation Data, user properties and content type pass through unchanged', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 'req', 0, 5);
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    const properties = {
      responseTopic: 'res/1',
      correlationData: Buffer.from([1, 2, 3]),
      userProperties: [
        ['a', '1'],
        ['a', '2'],
      ] as [string, string][],
      contentType: 'application/json',
      payloadFormatIndicator: 1 as const,
    };
    client.send({ type: 'publish', topic: 'req', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false, properties });
    const m = await sub.next('publish');
    expect(m.properties?.responseTopic).toBe('res/1');
    expect(Buffer.from(m.properties!.correlationData!)).toEqual(Buffer.from([1, 2, 3]));
    expect(m.properties?.userProperties).toEqual([
      ['a', '1'],
      ['a', '2'],
    ]);
    expect(m.properties?.contentType).toBe('application/json');
    expect(m.properties?.payloadFormatIndicator).toBe(1);
  });

  it('topic aliases towards the client: first PUBLISH carries topic + alias, later ones an empty topic', async () => {
    const { port } = await startBroker();
    const sub = await subscriber(port, 'al/#', 0, 5, { properties: { topicAliasMaximum: 1 } });
    const p = await broker(port);
    await p.publish('al/a');
    await p.publish('al/a');
    await p.publish('al/b');
    const m1 = await sub.next('publish');
    const m2 = await sub.next('publish');
    const m3 = await sub.next('publish');
    expect([m1.topic, m1.properties?.topicAlias]).toEqual(['al/a', 1]);
    expect([m2.topic, m2.properties?.topicAlias]).toEqual(['', 1]);
    expect([m3.topic, m3.properties?.topicAlias]).toEqual(['al/b', undefined]);
  });
});

/** A publisher helper: QoS 0 publishes that wait for nothing. */
async function broker(port: number): Promise<{ publish(topic: string): Promise<void> }> {
  const { client } = await RawClient.connect(port);
  return {
    async publish(topic: string) {
      client.send({ type: 'publish', topic, payload: Buffer.from('p'), qos: 1, retain: false, dup: false, packetId: 1 });
      await client.next('puback');
    },
  };
}
