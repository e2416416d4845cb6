// Interop with MQTT.js (npm `mqtt`, nobody here wrote it): protocol versions 3 (3.1), 4 (3.1.1)
// and 5 over TCP, and over WebSocket (ws and wss) — the WebSocket interop proof, since Debian's
// mosquitto clients have no WebSocket support.
import { createTestPki } from '@iotwire/tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { nextEvent, startBroker } from './helpers/broker.js';

const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});

async function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}

function messages(c: MqttClient, n: number): Promise<{ topic: string; payload: string; packet: mqtt.IPublishPacket }[]> {
  return new Promise((resolve, reject) => {
    const got: { topic: string; payload: string; packet: mqtt.IPublishPacket }[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length}/${n} messages`)), 10_000);
    c.on('message', (topic, payload, packet) => {
      got.push({ topic, payload: payload.toString(), packet });
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

describe('MQTT.js over TCP', () => {
  for (const protocolVersion of [3, 4, 5] as const) {
    it(`protocolVersion ${protocolVersion}: QoS 0/1/2 both directions, retained`, async () => {
      const { port } = await startBroker();
      const url = `mqtt://127.0.0.1:${port}`;
      const opts: IClientOptions = { protocolVersion, ...(protocolVersion === 3 ? { protocolId: 'MQIsdp' } : {}) };
      const pub = await connect(url, { ...opts, clientId: `pub${protocolVersion}` });
      await pub.publishAsync('js/retained', 'r', { qos: 1, retain: true });
      const sub = await connect(url, { ...opts, clientId: `sub${protocolVersion}` });
      const got = messages(sub, 4);
      const granted = await sub.subscribeAsync('js/#', { qos: 2 });
      expect(granted[0]?.qos).toBe(2);
      for (const qos of [0, 1, 2] as const) await pub.publishAsync(`js/q${qos}`, `m${qos}`, { qos });
      const list = await got;
      expect(list.map((m) => `${m.topic}=${m.payload}`)).toEqual(['js/retained=r', 'js/q0=m0', 'js/q1=m1', 'js/q2=m2']);
      expect(list[0]?.packet.retain).toBe(true);
      expect(list.slice(1).map((m) => m.packet.qos)).toEqual([0, 1, 2]);
    });
  }

  it('will message on an abrupt disconnect (5.0, with will properties)', async () => {
    const { port } = await startBroker();
    const url = `mqtt://127.0.0.1:${port}`;
    const watcher = await connect(url, { protocolVersion: 5, clientId: 'watcher' });
    await watcher.subscribeAsync('will/#', { qos: 1 });
    const got = messages(watcher, 1);
    const dying = await connect(url, {
      protocolVersion: 5,
      clientId: 'dying',
      will: { topic: 'will/dying', payload: Buffer.from('bye'), qos: 1, retain: false, properties: { contentType: 'text/plain' } },
    });
    (dying.stream as unknown as { destroy(): void }).destroy();
    const [m] = await got;
    expect(m?.payload).toBe('bye');
    expect(m?.packet.properties?.contentType).toBe('text/plain');
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`protocolVersion ${protocolVersion}: persistent session keeps subscriptions and QoS 1 messages across a reconnect`, async () => {
      const { port } = await startBroker();
      const url = `mqtt://127.0.0.1:${port}`;
      const persistent: IClientOptions = {
        protocolVersion,
        clientId: `keep${protocolVersion}`,
        clean: false,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
      };
      const first = await connect(url, persistent);
      await first.subscribeAsync('keep/#', { qos: 1 });
      await first.endAsync();
      const pub = await connect(url, { protocolVersion });
      await pub.publishAsync('keep/1', 'a', { qos: 1 });
      await pub.publishAsync('keep/2', 'b', { qos: 1 });
      const again = mqtt.connect(url, { ...persistent, reconnectPeriod: 0 });
      clients.push(again);
      const present = new Promise<boolean>((r) => again.once('connect', (ack) => r(ack.sessionPresent)));
      const list = await messages(again, 2);
      expect(await present).toBe(true);
      expect(list.map((m) => m.payload)).toEqual(['a', 'b']);
    });
  }

  it('shared subscriptions: each message goes to one member of the group', async () => {
    const { port } = await startBroker();
    const url = `mqtt://127.0.0.1:${port}`;
    const a = await connect(url, { protocolVersion: 5, clientId: 'a' });
    const b = await connect(url, { protocolVersion: 5, clientId: 'b' });
    await a.subscribeAsync('$share/g/jobs/+', { qos: 1 });
    await b.subscribeAsync('$share/g/jobs/+', { qos: 1 });
    const counts = { a: 0, b: 0 };
    a.on('message', () => counts.a++);
    b.on('message', () => counts.b++);
    const pub = await connect(url, { protocolVersion: 5 });
    for (let i = 0; i < 10; i++) await pub.publishAsync(`jobs/${i}`, String(i), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(counts.a + counts.b).toBe(10);
    expect(counts.a).toBeGreaterThan(0);
    expect(counts.b).toBeGreaterThan(0);
  });

  it('topic aliases in both directions (client → broker and broker → client)', async () => {
    const { port } = await startBroker({ topicAliasMaximum: 10 });
    const url = `mqtt://127.0.0.1:${port}`;
    // The subscriber accepts aliases from the broker; the publisher uses them towards the broker.
    const sub = await connect(url, { protocolVersion: 5, properties: { topicAliasMaximum: 5 } });
    await sub.subscribeAsync('alias/#');
    const got = messages(sub, 3);
    const aliasesSeen: (number | undefined)[] = [];
    sub.on('packetreceive', (p) => {
      if (p.cmd === 'publish') aliasesSeen.push((p as mqtt.IPublishPacket).properties?.topicAlias);
    });
    const pub = await connect(url, { protocolVersion: 5, autoUseTopicAlias: true });
    for (let i = 0; i < 3; i++) await pub.publishAsync('alias/long/topic/name', `v${i}`, { qos: 1 });
    const list = await got;
    expect(list.map((m) => m.topic)).toEqual(['alias/long/topic/name', 'alias/long/topic/name', 'alias/long/topic/name']);
    expect(aliasesSeen).toEqual([1, 1, 1]);
  });
});

describe('MQTT.js over WebSocket', () => {
  it('ws: subprotocol mqtt on /mqtt, 3.1.1 and 5.0, QoS 2', async () => {
    const { ports } = await startBroker({}, [{ protocol: 'ws', host: '127.0.0.1', port: 0 }]);
    const url = `ws://127.0.0.1:${ports[0]}/mqtt`;
    for (const protocolVersion of [4, 5] as const) {
      const sub = await connect(url, { protocolVersion });
      await sub.subscribeAsync('ws/#', { qos: 2 });
      const got = messages(sub, 1);
      const pub = await connect(url, { protocolVersion });
      // A payload larger than one frame's worth of typical data still arrives whole.
      await pub.publishAsync('ws/big', Buffer.alloc(100_000, 0x61), { qos: 2 });
      const [m] = await got;
      expect(m?.payload.length).toBe(100_000);
    }
  });

  it('wss with its own certificate', async () => {
    const pki = createTestPki();
    const { broker, ports } = await startBroker({}, [
      { protocol: 'wss', host: '127.0.0.1', port: 0, certificate: { cert: pki.server.cert, key: pki.server.key }, path: '/mqtt' },
    ]);
    const url = `wss://localhost:${ports[0]}/mqtt`;
    const connected = nextEvent(broker, 'connected');
    const c = await connect(url, { protocolVersion: 5, ca: pki.ca.cert, rejectUnauthorized: true });
    expect(((await connected) as { statusCode: number }).statusCode).toBe(0);
    await c.subscribeAsync('s');
    const got = messages(c, 1);
    await c.publishAsync('s', 'secure', { qos: 1 });
    expect((await got)[0]?.payload).toBe('secure');
  });
});
