// Broker behaviour beyond single normative statements (events, hooks, session JSON, MQTT 3.1,
// limits), kept from the first conformance suite; ids cited here are informative only. The
// statement-by-statement suite is ../v311 (MQTT 3.1.1) and ../v5 (MQTT 5.0), see ../statements.ts.
// Sessions (4.1, 4.4): persistence, redelivery, expiry; SaveSession/LoadSession; storage restarts.
import { describe, expect, it } from 'vitest';
import { MemoryStorage, MqttBroker } from '../../../src/index.js';
import { nextEvent, startBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';

describe('session state (4.1) and redelivery (4.4)', () => {
  it('[MQTT-4.4.0-1] unacknowledged QoS 1/2 PUBLISH are re-sent with DUP=1 and PUBREL re-sent on resume, in order', async () => {
    const { port } = await startBroker();
    const a = await RawClient.connect(port, { clientId: 'r', clean: false });
    a.client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'q/#', qos: 2 }] });
    await a.client.next('suback');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'q/1', payload: Buffer.from('one'), qos: 1, retain: false, dup: false, packetId: 1 });
    pub.send({ type: 'publish', topic: 'q/2', payload: Buffer.from('two'), qos: 2, retain: false, dup: false, packetId: 2 });
    pub.send({ type: 'publish', topic: 'q/3', payload: Buffer.from('three'), qos: 2, retain: false, dup: false, packetId: 3 });
    const m1 = await a.client.next('publish');
    const m2 = await a.client.next('publish');
    const m3 = await a.client.next('publish');
    a.client.send({ type: 'pubrec', packetId: m3.packetId! });
    await a.client.next('pubrel');
    a.client.destroy(); // no acks for m1, m2; m3 waits for PUBCOMP
    await a.client.closed;
    const b = await RawClient.connect(port, { clientId: 'r', clean: false });
    expect(b.connack.sessionPresent).toBe(true);
    const r1 = await b.client.next('publish');
    const r2 = await b.client.next('publish');
    expect([r1.dup, r1.packetId, r1.payload.toString()]).toEqual([true, m1.packetId, 'one']);
    expect([r2.dup, r2.packetId, r2.payload.toString()]).toEqual([true, m2.packetId, 'two']);
    expect((await b.client.next('pubrel')).packetId).toBe(m3.packetId);
  });

  it('3.1.1 persistent sessions queue QoS 1/2 while offline; QoS 0 is not queued by default', async () => {
    const { broker, port } = await startBroker();
    const a = await RawClient.connect(port, { clientId: 'off', clean: false });
    a.client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'o', qos: 1 }] });
    await a.client.next('suback');
    a.client.send({ type: 'disconnect' });
    await a.client.closed;
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'o', payload: Buffer.from('q0'), qos: 0, retain: false, dup: false });
    pub.send({ type: 'publish', topic: 'o', payload: Buffer.from('q1'), qos: 1, retain: false, dup: false, packetId: 1 });
    await pub.next('puback');
    expect(broker.sessions.get('off')?.outgoingMessages.map((m) => m.State)).toEqual([1]);
    const b = await RawClient.connect(port, { clientId: 'off', clean: false });
    expect((await b.client.next('publish')).payload.toString()).toBe('q1');
    expect(await b.client.none('publish', 200)).toBe(true);
  });

  it('a clean session is removed when its connection ends; SessionRemoved fires before it leaves `sessions`', async () => {
    const { broker, port } = await startBroker();
    const { client } = await RawClient.connect(port, { clientId: 'cl' });
    let present: boolean | undefined;
    broker.on('sessionRemoved', (e) => {
      present = broker.sessions.has(e.clientId);
    });
    client.destroy();
    await nextEvent(broker, 'disconnected');
    expect(present).toBe(true);
    expect(broker.sessions.has('cl')).toBe(false);
  });

  it('a persistent session survives a broker restart through the storage backend', async () => {
    const storage = new MemoryStorage();
    const mk = async () => {
      const b = new MqttBroker({ storage });
      b.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: 0 });
      await b.startListening();
      return b;
    };
    const b1 = await mk();
    const p1 = b1.brokerListeners[0]!.port;
    const a = await RawClient.connect(p1, {
      protocolVersion: 5,
      clientId: 'dur',
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    a.client.send({
      type: 'subscribe',
      packetId: 1,
      subscriptions: [{ topicFilter: 'd/#', qos: 1 }],
      properties: { subscriptionIdentifier: 3 },
    });
    await a.client.next('suback');
    a.client.send({ type: 'disconnect' });
    await a.client.closed;
    const { client: pub } = await RawClient.connect(p1);
    pub.send({ type: 'publish', topic: 'd/1', payload: Buffer.from('kept'), qos: 1, retain: false, dup: false, packetId: 1 });
    pub.send({ type: 'publish', topic: 'd/r', payload: Buffer.from('ret'), qos: 0, retain: true, dup: false });
    await pub.next('puback');
    pub.destroy();
    await b1.close();
    const b2 = await mk();
    try {
      expect(b2.messages.get('d/r')?.payload.toString()).toBe('ret');
      const b = await RawClient.connect(b2.brokerListeners[0]!.port, {
        protocolVersion: 5,
        clientId: 'dur',
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
      });
      expect(b.connack.sessionPresent).toBe(true);
      const m = await b.client.next('publish');
      expect([m.topic, m.payload.toString(), m.properties?.subscriptionIdentifiers]).toEqual(['d/1', 'kept', [3]]);
      b.client.destroy();
    } finally {
      await b2.close();
    }
  });
});

describe('saveSession / loadSession (the toolkit JSON shape)', () => {
  it('exports exactly ClientId, Subscriptions, IncomingMessages, OutgoingMessages with hex payloads and states', async () => {
    const { broker, port } = await startBroker();
    const a = await RawClient.connect(port, { clientId: 'Client1', clean: false });
    a.client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'A', qos: 2 }] });
    await a.client.next('suback');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'A', payload: Buffer.from('Test'), qos: 2, retain: false, dup: false, packetId: 1 });
    await pub.next('pubrec');
    await a.client.next('publish'); // not acknowledged: state 3
    const doc = JSON.parse(broker.saveSession('Client1'));
    expect(Object.keys(doc)).toEqual(['ClientId', 'Subscriptions', 'IncomingMessages', 'OutgoingMessages']);
    expect(doc.ClientId).toBe('Client1');
    expect(doc.Subscriptions).toEqual([{ Topic: 'A', QoS: 2 }]);
    expect(doc.OutgoingMessages).toHaveLength(1);
    expect(doc.OutgoingMessages[0]).toMatchObject({
      Topic: 'A',
      Payload: '54657374',
      QoS: 2,
      DUP: false,
      Retain: false,
      PacketId: 1,
      State: 3,
    });
    expect(Object.keys(doc.OutgoingMessages[0])).toEqual(['MessageId', 'Topic', 'Payload', 'QoS', 'DUP', 'Retain', 'PacketId', 'State']);
    // The publisher's side: its QoS 2 message waits for PUBREL (state 8).
    const pubId = [...broker.connections.values()].find((c) => c.clientId !== 'Client1')!.clientId;
    const pd = JSON.parse(broker.saveSession(pubId));
    expect(pd.IncomingMessages[0]).toMatchObject({ Topic: 'A', Payload: '54657374', QoS: 2, PacketId: 1, State: 8 });
  });

  it('loads a saved session into a new broker: subscriptions route at once, messages are redelivered on connect', async () => {
    const json = JSON.stringify({
      ClientId: 'Client1',
      Subscriptions: [{ Topic: 'A', QoS: 2 }],
      IncomingMessages: [{ MessageId: 1, Topic: 'A', Payload: '54657374', QoS: 2, DUP: false, Retain: false, PacketId: 1, State: 8 }],
      OutgoingMessages: [{ MessageId: 2, Topic: 'A', Payload: '54657374', QoS: 2, DUP: false, Retain: false, PacketId: 2, State: 3 }],
    });
    const { broker, port } = await startBroker();
    broker.loadSession(json);
    expect(broker.sessions.get('Client1')?.subscriptions).toEqual([{ topicFilter: 'A', qos: 2 }]);
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'A', payload: Buffer.from('queued'), qos: 1, retain: false, dup: false, packetId: 5 });
    await pub.next('puback');
    const { client, connack } = await RawClient.connect(port, { clientId: 'Client1', clean: false });
    expect(connack.sessionPresent).toBe(true);
    const r = await client.next('publish');
    expect([r.dup, r.packetId, Buffer.from(r.payload).toString('hex')]).toEqual([true, 2, '54657374']);
    expect((await client.next('publish')).payload.toString()).toBe('queued');
    // Incoming packet id 1 is still reserved: a re-sent PUBLISH is acknowledged, not forwarded.
    client.send({ type: 'pubrel', packetId: 1 });
    expect((await client.next('pubcomp')).packetId).toBe(1);
    // Round trip: what was loaded saves again with the same fields.
    expect(JSON.parse(broker.saveSession('Client1')).Subscriptions).toEqual([{ Topic: 'A', QoS: 2 }]);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['no ClientId', '{"Subscriptions":[]}', /ClientId/],
    [
      'bad hex',
      '{"ClientId":"c","OutgoingMessages":[{"MessageId":1,"Topic":"A","Payload":"zz","QoS":1,"DUP":false,"Retain":false,"PacketId":1,"State":2}]}',
      /hexadecimal/,
    ],
    [
      'incoming state 3',
      '{"ClientId":"c","IncomingMessages":[{"MessageId":1,"Topic":"A","Payload":"00","QoS":2,"DUP":false,"Retain":false,"PacketId":1,"State":3}]}',
      /State 3/,
    ],
    ['bad filter', '{"ClientId":"c","Subscriptions":[{"Topic":"a/#/b","QoS":0}]}', /invalid topic filter/],
  ])('rejects %s with ERR_SESSION_FORMAT', async (_n, json, re) => {
    const broker = new MqttBroker();
    expect(() => broker.loadSession(json)).toThrow(re);
    try {
      broker.loadSession(json);
    } catch (e) {
      expect((e as { code: string }).code).toBe('ERR_SESSION_FORMAT');
    }
  });

  it('refuses to load over a connected client', async () => {
    const { broker, port } = await startBroker();
    await RawClient.connect(port, { clientId: 'busy' });
    expect(() => broker.loadSession('{"ClientId":"busy"}')).toThrow(/connected/);
  });
});
