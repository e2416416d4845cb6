// Against @iotwire/mqtt-broker (in process, its own TCP/TLS/WS listeners): the same feature
// matrix as with Mosquitto, plus enhanced authentication, which Debian's Mosquitto cannot
// exercise without a plugin.
import { freePort } from '@iotwire/interop';
import { MemoryStorage, MqttBroker } from '@iotwire/mqtt-broker';
import { createTestPki, type TestPki } from '@iotwire/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttClient, type MqttClientOptions } from '../src/index.js';
import { until } from './helpers/fake-server.js';
import { collectMessages, type Transport, transportOptions } from './helpers/transports.js';

let broker: MqttBroker;
let pki: TestPki;
const ports = { tcp: 0, tls: 0, ws: 0 };
const clients: MqttClient[] = [];

function newBroker(port = ports.tcp, storage?: MemoryStorage): MqttBroker {
  const b = new MqttBroker({ receiveMaximum: 5, topicAliasMaximum: 8, ...(storage ? { storage } : {}) });
  b.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port });
  b.addHook({
    authMethods: ['TOKEN'],
    enhancedAuth: (a) => {
      if (a.step === 0) return { status: 'continue', data: Buffer.from('prove') };
      return a.data?.toString() === 'proof' ? { status: 'success', data: Buffer.from('welcome') } : { status: 'fail', reasonCode: 0x87 };
    },
  });
  b.on('error', () => {});
  return b;
}

beforeAll(async () => {
  pki = createTestPki({ clients: ['device-1'] });
  ports.tcp = await freePort('tcp');
  ports.tls = await freePort('tcp');
  ports.ws = await freePort('tcp');
  broker = newBroker();
  broker.addBrokerListener({
    protocol: 'tls',
    host: '127.0.0.1',
    port: ports.tls,
    certificate: { cert: pki.server.cert, key: pki.server.key },
    requestCert: true,
    tls: { trustedCaCerts: pki.ca.cert },
  });
  broker.addBrokerListener({ protocol: 'ws', host: '127.0.0.1', port: ports.ws, path: '/mqtt' });
  broker.on('sslClientAuthentication', (e) => {
    e.accept = e.status === 'OK';
  });
  await broker.startListening();
});
afterAll(async () => {
  for (const c of clients) c.interrupt();
  await broker?.close();
});

function make(t: Transport, o: MqttClientOptions = {}): MqttClient {
  const c = new MqttClient(transportOptions(t, ports, pki, o));
  c.on('error', () => {});
  clients.push(c);
  return c;
}
const collect = collectMessages;
let seq = 0;
const uniq = (p: string) => `${p}/${Date.now()}-${seq++}`;

describe.each([4, 5] as const)('MQTT %s against @iotwire/mqtt-broker', (version) => {
  it.each(['tcp', 'tls', 'ws'] as const)('over %s: QoS 0/1/2, retained, unsubscribe', async (transport) => {
    const topic = uniq(`ib/${transport}`);
    const sub = make(transport, { protocolVersion: version });
    const pub = make(transport, { protocolVersion: version });
    await sub.connect();
    await pub.connect();
    await pub.publish(`${topic}/r`, 'kept', { qos: 1, retain: true });
    const got = collect(sub);
    expect(await sub.subscribe(`${topic}/#`, { qos: 2 })).toEqual([{ topicFilter: `${topic}/#`, reasonCode: 2 }]);
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: `${topic}/r`, retain: true });
    await Promise.all([
      pub.publish(`${topic}/0`, 'a'),
      pub.publish(`${topic}/1`, 'b', { qos: 1 }),
      pub.publish(`${topic}/2`, 'c', { qos: 2 }),
    ]);
    await until(() => got.length === 4);
    expect(
      got
        .slice(1)
        .map((m) => `${m.topic.slice(topic.length + 1)}:${m.text}:${m.qos}`)
        .sort(),
    ).toEqual(['0:a:0', '1:b:1', '2:c:2']);
    await sub.unsubscribe(`${topic}/#`);
    await pub.publish(`${topic}/x`, 'late', { qos: 1 });
    await pub.publish(`${topic}/r`, '', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(4);
    await sub.disconnect();
    await pub.disconnect();
  });

  it('persistent session: queued messages on reconnect, Will on ungraceful close', async () => {
    const topic = uniq('ib/session');
    const a = make('tcp', {
      protocolVersion: version,
      clientId: uniq('ib-p').replaceAll('/', '-'),
      clean: false,
      sessionExpiryInterval: 300,
    });
    await a.connect();
    await a.subscribe(topic, { qos: 1 });
    await a.disconnect();
    const p = make('tcp', { protocolVersion: version, will: { topic: `${topic}/will`, payload: 'gone', qos: 1 } });
    await p.connect();
    for (let i = 0; i < 3; i++) await p.publish(topic, `m${i}`, { qos: 1 });
    const got = collect(a);
    expect((await a.connect()).sessionPresent).toBe(true);
    await until(() => got.length === 3);
    expect(got.map((m) => m.text)).toEqual(['m0', 'm1', 'm2']);
    await a.subscribe(`${topic}/will`, { qos: 1 });
    p.interrupt();
    await until(() => got.length === 4);
    expect(got[3]!.text).toBe('gone');
    await a.disconnect();
  });
});

describe('MQTT 5 against @iotwire/mqtt-broker', () => {
  it('properties, subscription identifiers, topic aliases, Receive Maximum', async () => {
    const topic = uniq('ib/p5');
    const sub = make('tcp', { protocolVersion: 5, topicAliasMaximum: 4 });
    const pub = make('tcp', { protocolVersion: 5 });
    await sub.connect();
    const r = await pub.connect();
    expect(r.properties?.receiveMaximum).toBe(5);
    expect(pub.serverTopicAliasMaximum).toBe(8);
    const got = collect(sub);
    await sub.subscribe(`${topic}/#`, { qos: 1, subscriptionIdentifier: 11 });
    let maxInFlight = 0;
    const ps = Array.from({ length: 30 }, (_, i) => {
      const p = pub.publish(`${topic}/t${i % 12}`, `v${i}`, {
        qos: 1,
        properties: { userProperties: [['i', String(i)]], contentType: 'text/plain', correlationData: Buffer.from([i]) },
      });
      maxInFlight = Math.max(maxInFlight, pub.outgoingMessages.length);
      return p;
    });
    await Promise.all(ps);
    expect(maxInFlight).toBe(5);
    await until(() => got.length === 30);
    got.forEach((m, i) => {
      expect(m.topic).toBe(`${topic}/t${i % 12}`);
      expect(m.userProperties).toEqual([['i', String(i)]]);
      expect(m.subscriptionIdentifiers).toEqual([11]);
      expect([...m.correlationData!]).toEqual([i]);
    });
    await sub.disconnect();
    await pub.disconnect();
  });

  it('request/response', async () => {
    const base = uniq('ib/rpc');
    const server = make('tcp', { protocolVersion: 5 });
    const caller = make('tcp', { protocolVersion: 5, responseTopic: `${base}/resp` });
    await server.connect();
    await caller.connect();
    server.on('messageIn', (m) => m.topic === `${base}/echo` && server.respond(m, m.text.toUpperCase(), { qos: 1 }));
    await server.subscribe(`${base}/echo`, { qos: 1 });
    await caller.subscribe(`${base}/resp`, { qos: 1 });
    expect((await caller.request(`${base}/echo`, 'hi', { qos: 1, responseTopic: `${base}/resp` })).text).toBe('HI');
    await server.disconnect();
    await caller.disconnect();
  });

  it('enhanced authentication through the broker hook, success and refusal', async () => {
    const good = make('tcp', {
      protocolVersion: 5,
      auth: {
        method: 'TOKEN',
        respond: ({ data }) => (data?.toString() === 'prove' ? Buffer.from('proof') : Buffer.from('?')),
        complete: ({ data }) => expect(data?.toString()).toBe('welcome'),
      },
    });
    await good.connect();
    expect(good.connected).toBe(true);
    await good.disconnect();
    const bad = make('tcp', { protocolVersion: 5, auth: { method: 'TOKEN', respond: () => Buffer.from('wrong') } });
    await expect(bad.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION_REFUSED', reasonCode: 0x87 });
  });

  it('QoS 2 across a broker restart with its sessions kept: exactly once to the application; re-subscribe when the session is gone', async () => {
    // A second broker on its own port whose memory storage outlives the broker object.
    const port = await freePort('tcp');
    const storage = new MemoryStorage();
    let b = newBroker(port, storage);
    await b.startListening();
    const url = `mqtt://127.0.0.1:${port}`;
    const common = {
      protocolVersion: 5 as const,
      clean: false,
      sessionExpiryInterval: 600,
      reconnect: { minDelayMs: 30, maxDelayMs: 100 },
    };
    const sub = new MqttClient({ url, clientId: uniq('ib-sub').replaceAll('/', '-'), ...common });
    const pub = new MqttClient({ url, clientId: uniq('ib-pub').replaceAll('/', '-'), ...common, queue: { maxMessages: 1000 } });
    const volatile = new MqttClient({ url, protocolVersion: 5, reconnect: { minDelayMs: 30, maxDelayMs: 100 } });
    for (const c of [sub, pub, volatile]) {
      c.on('error', () => {});
      clients.push(c);
    }
    const received = new Map<string, number>();
    sub.on('messageIn', (m) => received.set(m.text, (received.get(m.text) ?? 0) + 1));
    const vol: string[] = [];
    volatile.on('messageIn', (m) => vol.push(m.text));
    await sub.connect();
    await sub.subscribe('ibx/#', { qos: 2 });
    await volatile.connect();
    await volatile.subscribe('ibx/v', { qos: 1 });
    await pub.connect();
    const total = 200;
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      done.push(pub.publish(`ibx/${i % 5}`, `m${i}`, { qos: 2 }));
      if (i === 80) {
        await until(() => received.size >= 10, 20_000, 'first deliveries');
        await b.shutdown();
        await b.close();
        b = newBroker(port, storage);
        await b.startListening();
      }
    }
    await Promise.all(done);
    await until(() => received.size === total, 30_000, 'all messages');
    await new Promise((r) => setTimeout(r, 200));
    expect([...received.entries()].filter(([, n]) => n > 1)).toEqual([]);
    // The clean client's subscription was restored on the new broker.
    await until(() => volatile.connected && volatile.subscriptions.length === 1);
    await until(
      () => {
        pub.publish('ibx/v', 'after', { qos: 1 });
        return vol.includes('after');
      },
      10_000,
      'delivery to the re-subscribed clean client',
    );
    for (const c of [sub, pub, volatile]) c.interrupt();
    await b.close();
  }, 90_000);
});
