// Protocol behaviour against a scripted server on a raw socket: every packet the client
// sends is checked, and the server can say exactly what a real broker might.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttClient, type MqttClientError, type MqttMessage } from '../src/index.js';
import { FakeServer, once, until } from './helpers/fake-server.js';

let server: FakeServer;
const clients: MqttClient[] = [];
beforeEach(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.interrupt();
  await server.close();
});
const client = (o: ConstructorParameters<typeof MqttClient>[0] = {}) => {
  const c = new MqttClient({ url: server.url, connectTimeoutMs: 10_000, ...o });
  c.on('error', () => {});
  clients.push(c);
  return c;
};

describe('CONNECT and CONNACK', () => {
  it('sends every CONNECT field (5.0), generates a client id, takes the server overrides', async () => {
    const c = client({
      protocolVersion: 5,
      keepAlive: 30,
      username: 'u',
      password: 'p',
      sessionExpiryInterval: 300,
      receiveMaximum: 10,
      maximumPacketSize: 4096,
      topicAliasMaximum: 5,
      requestResponseInformation: true,
      userProperties: [['a', 'b']],
      will: { topic: 'w/t', payload: 'bye', qos: 1, retain: true, properties: { willDelayInterval: 5, contentType: 'text/plain' } },
    });
    const p = c.connect();
    const conn = await server.connection();
    const connect = await conn.accept({
      sessionPresent: false,
      properties: {
        serverKeepAlive: 7,
        topicAliasMaximum: 3,
        maximumQoS: 1,
        retainAvailable: false,
        sessionExpiryInterval: 60,
        responseInformation: 'resp',
      },
    });
    const r = await p;
    expect(connect).toMatchObject({
      protocolVersion: 5,
      clean: true,
      keepAlive: 30,
      username: 'u',
      will: { topic: 'w/t', qos: 1, retain: true, properties: { willDelayInterval: 5, contentType: 'text/plain' } },
      properties: {
        sessionExpiryInterval: 300,
        receiveMaximum: 10,
        maximumPacketSize: 4096,
        topicAliasMaximum: 5,
        requestResponseInformation: true,
        userProperties: [['a', 'b']],
      },
    });
    expect(Buffer.from(connect.password!).toString()).toBe('p');
    expect(connect.clientId).toMatch(/^iotwire-/);
    expect(c.clientId).toBe(connect.clientId);
    expect(r.properties?.serverKeepAlive).toBe(7);
    expect(c.keepAliveInterval).toBe(7);
    expect(c.serverTopicAliasMaximum).toBe(3);
    expect(c.sessionExpiryInterval).toBe(60);
    await expect(c.publish('t', 'x', { qos: 2 })).rejects.toMatchObject({ code: 'ERR_QOS_INVALID', reasonCode: 0x9b });
    await expect(c.publish('t', 'x', { retain: true })).rejects.toMatchObject({ code: 'ERR_NOT_SUPPORTED', reasonCode: 0x9a });
  });

  it('5.0 with an empty client id and clean false adopts the Assigned Client Identifier', async () => {
    const c = client({ protocolVersion: 5, clean: false, sessionExpiryInterval: 10 });
    const p = c.connect();
    const conn = await server.connection();
    const connect = await conn.accept({ properties: { assignedClientIdentifier: 'given-1' } });
    await p;
    expect(connect.clientId).toBe('');
    expect(c.clientId).toBe('given-1');
  });

  it('3.1.1 refuses an empty client id with clean false before connecting', async () => {
    await expect(client({ clean: false }).connect()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('a CONNACK refusal rejects connect() with the code, in 3.1.1 and 5.0, and fires connected with it', async () => {
    const c4 = client();
    const events: number[] = [];
    c4.on('connected', (e) => events.push(e.statusCode));
    const p4 = c4.connect();
    (await server.connection()).accept({ reasonCode: 5 });
    await expect(p4).rejects.toMatchObject({ code: 'ERR_CONNECTION_REFUSED', reasonCode: 5, message: /not authorized/i });
    expect(events).toEqual([5]);
    const c5 = client({ protocolVersion: 5 });
    const p5 = c5.connect();
    (await server.connection()).accept({ reasonCode: 0x87, properties: { reasonString: 'nope' } });
    await expect(p5).rejects.toMatchObject({ code: 'ERR_CONNECTION_REFUSED', reasonCode: 0x87, message: /nope/ });
    expect(c5.state).toBe('disconnected');
  });

  it('times out when no CONNACK comes (connectTimeoutMs)', async () => {
    const c = client({ connectTimeoutMs: 300 });
    await expect(c.connect()).rejects.toMatchObject({ code: 'ERR_TIMEOUT', errorCode: 201 });
    expect(c.state).toBe('disconnected');
  });

  it('connect() twice: ERR_ALREADY_CONNECTING / ERR_ALREADY_CONNECTED', async () => {
    const c = client();
    const p = c.connect();
    await expect(c.connect()).rejects.toMatchObject({ code: 'ERR_ALREADY_CONNECTING' });
    (await server.connection()).accept();
    await p;
    await expect(c.connect()).rejects.toMatchObject({ code: 'ERR_ALREADY_CONNECTED' });
  });
});

async function connected(o: ConstructorParameters<typeof MqttClient>[0] = {}, connack = {}) {
  const c = client(o);
  const p = c.connect();
  const conn = await server.connection();
  await conn.accept(connack);
  await p;
  return { c, conn };
}

describe('publishing', () => {
  it('QoS 1 and 2 flows settle on PUBACK / PUBCOMP and fire messageAck then messageOut', async () => {
    const { c, conn } = await connected();
    const events: string[] = [];
    c.on('messageAck', (e) => events.push(`ack ${e.packetId} dir=${e.direction} idx=${e.index} rc=${e.responseCode}`));
    c.on('messageOut', (m) => events.push(`out ${m.topic} q${m.qos}`));
    const p1 = c.publish('a', 'x', { qos: 1 });
    const p2 = c.publish('b', 'y', { qos: 2 });
    const pub1 = await conn.next('publish');
    const pub2 = await conn.next('publish');
    expect([pub1.packetId, pub2.packetId]).toEqual([1, 2]);
    expect(c.outgoingMessages.map((m) => m.state)).toEqual([0, 1]);
    conn.send({ type: 'pubrec', packetId: 2 });
    expect((await conn.next('pubrel')).packetId).toBe(2);
    conn.send({ type: 'puback', packetId: 1 });
    conn.send({ type: 'pubcomp', packetId: 2 });
    expect(await p1).toEqual({ packetId: 1, reasonCode: 0 });
    expect(await p2).toEqual({ packetId: 2, reasonCode: 0 });
    expect(events).toEqual(['ack 1 dir=0 idx=0 rc=0', 'out a q1', 'ack 2 dir=0 idx=0 rc=0', 'out b q2']);
    expect(c.outgoingPacketId).toBe(2);
  });

  it('a failing PUBACK (5.0) rejects with the reason code and string', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 });
    const p = c.publish('a', 'x', { qos: 1 });
    const pub = await conn.next('publish');
    conn.send({ type: 'puback', packetId: pub.packetId!, reasonCode: 0x87, properties: { reasonString: 'denied' } });
    await expect(p).rejects.toMatchObject({ code: 'ERR_PUBLISH_FAILED', reasonCode: 0x87 });
  });

  it('honours the server Receive Maximum and queues the rest', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 }, { properties: { receiveMaximum: 2 } });
    const ps = [1, 2, 3, 4].map((i) => c.publish(`t/${i}`, 'x', { qos: 1 }));
    await conn.next('publish');
    await conn.next('publish');
    await new Promise((r) => setTimeout(r, 100));
    expect(conn.packets.filter((p) => p.type === 'publish')).toHaveLength(0);
    expect(c.queuedMessages).toHaveLength(2);
    conn.send({ type: 'puback', packetId: 1 });
    expect((await conn.next('publish')).topic).toBe('t/3');
    conn.send({ type: 'puback', packetId: 2 });
    conn.send({ type: 'puback', packetId: 3 });
    expect((await conn.next('publish')).topic).toBe('t/4');
    conn.send({ type: 'puback', packetId: 4 });
    await Promise.all(ps);
  });

  it('assigns topic aliases automatically within the server maximum (LRU) and refuses oversized packets', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 }, { properties: { topicAliasMaximum: 2, maximumPacketSize: 200 } });
    for (const t of ['a/1', 'a/2', 'a/1', 'a/3', 'a/1', 'a/2']) c.publish(t, 'x');
    const wire = [];
    for (let i = 0; i < 6; i++) {
      const p = await conn.next('publish');
      wire.push(`${p.topic}=${p.properties?.topicAlias}`);
    }
    expect(wire).toEqual(['a/1=1', 'a/2=2', '=1', 'a/3=2', '=1', 'a/2=2']);
    await expect(c.publish('big', Buffer.alloc(500))).rejects.toMatchObject({ code: 'ERR_PACKET_TOO_LARGE' });
    await expect(c.publish('a/+', 'x')).rejects.toMatchObject({ code: 'ERR_TOPIC_NAME_INVALID', errorCode: 502 });
    await expect(c.publish('t', 'x', { qos: 3 as never })).rejects.toMatchObject({ code: 'ERR_QOS_INVALID', errorCode: 505 });
  });

  it('explicit topic aliases: publish by alias only after establishing it', async () => {
    const { c, conn } = await connected({ protocolVersion: 5, topicAliases: 'off' }, { properties: { topicAliasMaximum: 4 } });
    await expect(c.publish('', 'x', { properties: { topicAlias: 3 } })).rejects.toMatchObject({ code: 'ERR_TOPIC_NAME_INVALID' });
    c.publish('x/y', '1', { properties: { topicAlias: 3 } });
    c.publish('', '2', { properties: { topicAlias: 3 } });
    const p = c.publish('', '3', { qos: 1, properties: { topicAlias: 3 } });
    const a = await conn.next('publish');
    const b = await conn.next('publish');
    const q = await conn.next('publish');
    expect([a.topic, b.topic, q.topic]).toEqual(['x/y', '', '']);
    expect(c.outgoingMessages[0]?.topic).toBe('x/y'); // stored with its real topic for resends
    conn.send({ type: 'puback', packetId: q.packetId! });
    await p;
  });

  it('3.1.1 republish interval resends an unacknowledged PUBLISH with DUP and the same id', async () => {
    const { c, conn } = await connected({ republishInterval: 1 });
    const p = c.publish('r', 'x', { qos: 1 });
    const first = await conn.next('publish');
    const again = await conn.next('publish', () => true, 5000);
    expect(again).toMatchObject({ packetId: first.packetId, dup: true });
    conn.send({ type: 'puback', packetId: first.packetId! });
    await p;
  });
});

describe('receiving', () => {
  it('QoS 0/1/2 deliveries; QoS 2 only after PUBREL, exactly once despite a duplicate PUBLISH', async () => {
    const { c, conn } = await connected();
    const got: string[] = [];
    c.on('messageIn', (m) => got.push(`${m.topic}:${m.text}:q${m.qos}`));
    const acks: string[] = [];
    c.on('messageAck', (e) => acks.push(`${e.packetId}/${e.direction}`));
    conn.send({ type: 'publish', topic: 't/0', payload: Buffer.from('a'), qos: 0, retain: false, dup: false });
    conn.send({ type: 'publish', topic: 't/1', payload: Buffer.from('b'), qos: 1, retain: true, dup: false, packetId: 11 });
    conn.send({ type: 'publish', topic: 't/2', payload: Buffer.from('c'), qos: 2, retain: false, dup: false, packetId: 12 });
    expect(await conn.next('puback')).toMatchObject({ packetId: 11 });
    expect(await conn.next('pubrec')).toMatchObject({ packetId: 12 });
    await until(() => got.length === 2);
    expect(c.incomingMessages.map((m) => [m.packetId, m.state])).toEqual([[12, 7]]);
    conn.send({ type: 'publish', topic: 't/2', payload: Buffer.from('c'), qos: 2, retain: false, dup: true, packetId: 12 });
    expect(await conn.next('pubrec')).toMatchObject({ packetId: 12 });
    conn.send({ type: 'pubrel', packetId: 12 });
    expect(await conn.next('pubcomp')).toMatchObject({ packetId: 12 });
    await until(() => got.length === 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['t/0:a:q0', 't/1:b:q1', 't/2:c:q2']);
    expect(acks).toEqual(['11/1', '12/1']);
    expect(c.incomingMessages).toHaveLength(0);
  });

  it('answers a PUBREL for an unknown id with PUBCOMP 0x92 (5.0) and acks in arrival order', async () => {
    const { conn } = await connected({ protocolVersion: 5 });
    conn.send({ type: 'pubrel', packetId: 99 });
    expect(await conn.next('pubcomp')).toMatchObject({ packetId: 99, reasonCode: 0x92 });
    for (let i = 1; i <= 5; i++)
      conn.send({ type: 'publish', topic: 'o', payload: Buffer.from([i]), qos: 1, retain: false, dup: false, packetId: i });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await conn.next('puback')).packetId);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
  });

  it('resolves incoming topic aliases and surfaces every MQTT 5 property', async () => {
    const { c, conn } = await connected({ protocolVersion: 5, topicAliasMaximum: 4 });
    const got: MqttMessage[] = [];
    c.on('messageIn', (m) => got.push(m));
    const properties = {
      topicAlias: 2,
      payloadFormatIndicator: 1 as const,
      messageExpiryInterval: 30,
      contentType: 'text/plain',
      responseTopic: 'r/1',
      correlationData: Buffer.from([1, 2]),
      userProperties: [
        ['k', 'v'],
        ['k', 'w'],
      ] as [string, string][],
      subscriptionIdentifiers: [3, 7],
    };
    conn.send({ type: 'publish', topic: 'long/topic/name', payload: Buffer.from('1'), qos: 0, retain: false, dup: false, properties });
    conn.send({ type: 'publish', topic: '', payload: Buffer.from('2'), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
    await until(() => got.length === 2);
    expect(got.map((m) => m.topic)).toEqual(['long/topic/name', 'long/topic/name']);
    const m = got[0]!;
    expect([
      m.payloadFormatIndicator,
      m.messageExpiryInterval,
      m.contentType,
      m.responseTopic,
      m.subscriptionIdentifiers,
      m.userProperties,
      m.topicAlias,
    ]).toEqual([
      1,
      30,
      'text/plain',
      'r/1',
      [3, 7],
      [
        ['k', 'v'],
        ['k', 'w'],
      ],
      2,
    ]);
    expect([...m.correlationData!]).toEqual([1, 2]);
  });
});

describe('subscribing', () => {
  it('sends options, identifiers and user properties; reports per-filter results and events', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 });
    const events: string[] = [];
    c.on('subscribed', (e) => events.push(`${e.topicFilter}:${e.responseCode}`));
    const p = c.subscribe(' a/+ , b/#,$share/g/c ', {
      qosList: [1, 2],
      noLocal: [true, false, false],
      retainAsPublished: true,
      retainHandling: [2, 1],
      subscriptionIdentifier: 42,
      userProperties: [['x', 'y']],
    });
    const sub = await conn.next('subscribe');
    expect(sub.subscriptions).toEqual([
      { topicFilter: 'a/+', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      { topicFilter: 'b/#', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 1 },
      { topicFilter: '$share/g/c', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 1 },
    ]);
    expect(sub.properties).toEqual({ subscriptionIdentifier: 42, userProperties: [['x', 'y']] });
    conn.send({ type: 'suback', packetId: sub.packetId, reasonCodes: [1, 0x87, 2] });
    expect(await p).toEqual([
      { topicFilter: 'a/+', reasonCode: 1 },
      { topicFilter: 'b/#', reasonCode: 0x87 },
      { topicFilter: '$share/g/c', reasonCode: 2 },
    ]);
    expect(events).toEqual(['a/+:1', 'b/#:135', '$share/g/c:2']);
    expect(c.subscriptions.map((s) => s.topicFilter)).toEqual(['a/+', '$share/g/c']);
    const u = c.unsubscribe(['a/+', 'zzz']);
    const unsub = await conn.next('unsubscribe');
    conn.send({ type: 'unsuback', packetId: unsub.packetId, reasonCodes: [0, 0x11] });
    expect(await u).toMatchObject({ topicFilters: ['a/+', 'zzz'], reasonCodes: [0, 0x11], responseCode: 0 });
    expect(c.subscriptions.map((s) => s.topicFilter)).toEqual(['$share/g/c']);
  });

  it('rejects invalid filters locally (503) and a fully refused SUBACK with the code', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 });
    await expect(c.subscribe('a/#/b')).rejects.toMatchObject({ code: 'ERR_TOPIC_FILTER_INVALID', errorCode: 503 });
    await expect(c.subscribe([{ topicFilter: '$share/g/x', noLocal: true }])).rejects.toMatchObject({ code: 'ERR_TOPIC_FILTER_INVALID' });
    const p = c.subscribe('x');
    const sub = await conn.next('subscribe');
    conn.send({ type: 'suback', packetId: sub.packetId, reasonCodes: [0x8f] });
    await expect(p).rejects.toMatchObject({ code: 'ERR_SUBSCRIBE_FAILED', reasonCode: 0x8f });
  });
});

describe('keep-alive, server DISCONNECT, reconnect', () => {
  it('closes with ERR_KEEPALIVE_TIMEOUT when PINGREQ goes unanswered', async () => {
    const { c, conn } = await connected({ keepAlive: 1 });
    const disc = once<{ error?: MqttClientError }>(c, 'disconnected', 10_000);
    await conn.next('pingreq', () => true, 5000);
    expect((await disc).error?.code).toBe('ERR_KEEPALIVE_TIMEOUT');
  });

  it('keeps the link up while PINGRESPs come', async () => {
    const { c, conn } = await connected({ keepAlive: 1 });
    for (let i = 0; i < 2; i++) {
      await conn.next('pingreq', () => true, 5000);
      conn.send({ type: 'pingresp' });
    }
    expect(c.connected).toBe(true);
  });

  it('surfaces a server DISCONNECT with its reason code, reason string and server reference', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 });
    const disc = once<{ reasonCode?: number; properties?: { reasonString?: string; serverReference?: string }; error?: MqttClientError }>(
      c,
      'disconnected',
    );
    conn.send({ type: 'disconnect', reasonCode: 0x9c, properties: { reasonString: 'moving', serverReference: 'other:1883' } });
    const e = await disc;
    expect(e.reasonCode).toBe(0x9c);
    expect(e.properties).toMatchObject({ reasonString: 'moving', serverReference: 'other:1883' });
    expect(e.error?.code).toBe('ERR_SERVER_DISCONNECT');
    expect(c.lastServerDisconnect?.reasonCode).toBe(0x9c);
  });

  it('reconnects with backoff, re-subscribes after a lost session and republishes unacknowledged messages', async () => {
    const { c, conn } = await connected({ reconnect: { minDelayMs: 20, maxDelayMs: 50 } });
    const s = c.subscribe(['keep/a', 'keep/b'], { qos: 1 });
    const sub = await conn.next('subscribe');
    conn.send({ type: 'suback', packetId: sub.packetId, reasonCodes: [1, 1] });
    await s;
    const p = c.publish('pending', 'x', { qos: 1 });
    await conn.next('publish');
    const restored: string[] = [];
    c.on('subscribed', (e) => e.restored && restored.push(e.topicFilter));
    conn.socket.destroy();
    const q = c.publish('offline', 'y', { qos: 1 }); // queued while reconnecting
    const conn2 = await server.connection();
    await conn2.accept({ sessionPresent: false });
    const sub2 = await conn2.next('subscribe');
    expect(sub2.subscriptions.map((x) => x.topicFilter)).toEqual(['keep/a', 'keep/b']);
    conn2.send({ type: 'suback', packetId: sub2.packetId, reasonCodes: [1, 1] });
    const re = await conn2.next('publish', (x) => x.topic === 'pending');
    expect(re.dup).toBe(false); // new session: a new message, not a redelivery
    const off = await conn2.next('publish', (x) => x.topic === 'offline');
    conn2.send({ type: 'puback', packetId: re.packetId! });
    conn2.send({ type: 'puback', packetId: off.packetId! });
    await Promise.all([p, q]);
    await until(() => restored.length === 2);
  });

  it('with a session present, resends with DUP and the same id and does not re-subscribe', async () => {
    const { c, conn } = await connected({ clientId: 'persist', clean: false, reconnect: { minDelayMs: 20 } });
    const p = c.publish('pending', 'x', { qos: 2 });
    const first = await conn.next('publish');
    conn.socket.destroy();
    const conn2 = await server.connection();
    const connect2 = await conn2.accept({ sessionPresent: true });
    expect(connect2).toMatchObject({ clientId: 'persist', clean: false });
    const again = await conn2.next('publish');
    expect(again).toMatchObject({ packetId: first.packetId, dup: true });
    conn2.send({ type: 'pubrec', packetId: first.packetId! });
    await conn2.next('pubrel');
    conn2.send({ type: 'pubcomp', packetId: first.packetId! });
    await p;
    expect(conn2.packets.some((x) => x.type === 'subscribe')).toBe(false);
  });

  it('QoS 0 is not queued offline by default; with queueQoS0 it is, and the queue is bounded', async () => {
    const c = client({ queue: { maxMessages: 1 } });
    await expect(c.publish('t', 'x')).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
    c.publish('t', 'x', { qos: 1 });
    await expect(c.publish('t', 'y', { qos: 1 })).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' });
    const d = client({ queue: { queueQoS0: true, maxMessages: 2, overflow: 'drop-oldest' } });
    const a = d.publish('t', '1');
    d.publish('t', '2');
    d.publish('t', '3');
    await expect(a).rejects.toMatchObject({ code: 'ERR_QUEUE_DROPPED' });
    const p = d.connect();
    const conn = await server.connection();
    await conn.accept();
    await p;
    expect([(await conn.next('publish')).payload.toString(), (await conn.next('publish')).payload.toString()]).toEqual(['2', '3']);
  });

  it('disconnect() sends DISCONNECT with the 5.0 reason code and ends a volatile session', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 });
    const p = c.publish('t', 'x', { qos: 1 });
    await conn.next('publish');
    await c.disconnect({ reasonCode: 0x04, properties: { reasonString: 'bye' } });
    expect(await conn.next('disconnect')).toMatchObject({ reasonCode: 0x04, properties: { reasonString: 'bye' } });
    await expect(p).rejects.toMatchObject({ code: 'ERR_DISCONNECTED' });
    expect(c.state).toBe('disconnected');
  });

  it('interrupt() aborts a pending connect with ERR_INTERRUPTED (301)', async () => {
    const c = client();
    const p = c.connect();
    await server.connection();
    c.interrupt();
    await expect(p).rejects.toMatchObject({ code: 'ERR_INTERRUPTED', errorCode: 301 });
  });
});

describe('MQTT 5 extras', () => {
  it('request/response: response topic + correlation data, matched back', async () => {
    const { c, conn } = await connected({ protocolVersion: 5 }, { properties: { responseInformation: 'svc' } });
    const r = c.request('svc/do', 'ping', { timeoutMs: 5000 });
    const sub = await conn.next('subscribe');
    expect(sub.subscriptions[0]!.topicFilter).toBe(`svc/${c.clientId}`);
    conn.send({ type: 'suback', packetId: sub.packetId, reasonCodes: [1] });
    const req = await conn.next('publish');
    expect(req.properties?.responseTopic).toBe(`svc/${c.clientId}`);
    conn.send({ type: 'puback', packetId: req.packetId ?? 1 });
    conn.send({
      type: 'publish',
      topic: req.properties!.responseTopic!,
      payload: Buffer.from('pong'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { correlationData: req.properties!.correlationData! },
    });
    expect((await r).text).toBe('pong');
    await expect(c.request('svc/do', 'x', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('enhanced authentication: challenge/response during CONNECT, then re-authentication', async () => {
    const seen: string[] = [];
    const c = client({
      protocolVersion: 5,
      auth: {
        method: 'TEST',
        initialData: () => Buffer.from('hello'),
        respond: (ch) => {
          seen.push(`challenge ${Buffer.from(ch.data!).toString()}`);
          return Buffer.from('answer');
        },
        complete: (ch) => {
          seen.push(`final ${ch.data ? Buffer.from(ch.data).toString() : '-'}`);
        },
      },
    });
    const p = c.connect();
    const conn = await server.connection();
    const connect = await conn.next('connect');
    expect(connect.properties).toMatchObject({ authenticationMethod: 'TEST' });
    expect(Buffer.from(connect.properties!.authenticationData!).toString()).toBe('hello');
    conn.send({ type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'TEST', authenticationData: Buffer.from('nonce') } });
    const answer = await conn.next('auth');
    expect(answer.reasonCode).toBe(0x18);
    expect(Buffer.from(answer.properties!.authenticationData!).toString()).toBe('answer');
    conn.send({
      type: 'connack',
      sessionPresent: false,
      reasonCode: 0,
      properties: { authenticationMethod: 'TEST', authenticationData: Buffer.from('sig') },
    });
    await p;
    expect(seen).toEqual(['challenge nonce', 'final sig']);
    const re = c.reauthenticate();
    expect((await conn.next('auth')).reasonCode).toBe(0x19);
    conn.send({ type: 'auth', reasonCode: 0, properties: { authenticationMethod: 'TEST' } });
    await re;
  });

  it('refuses the server when the final authentication data does not verify (DISCONNECT 0x87)', async () => {
    const c = client({
      protocolVersion: 5,
      auth: {
        method: 'TEST',
        respond: () => undefined,
        complete: () => {
          throw new Error('bad server signature');
        },
      },
    });
    const p = c.connect();
    const conn = await server.connection();
    await conn.accept({ properties: { authenticationMethod: 'TEST' } });
    await expect(p).rejects.toMatchObject({ code: 'ERR_AUTH_FAILED' });
    expect(await conn.next('disconnect')).toMatchObject({ reasonCode: 0x87 });
  });
});
