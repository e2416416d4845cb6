// Against Debian's Mosquitto: MQTT 3.1.1 and 5.0 over TCP, TLS with a client certificate,
// and WebSocket.
import { createHash, X509Certificate } from 'node:crypto';
import { type MosquittoPeer, startMosquitto } from '@iotwire/interop';
import { createTestPki, type TestPki } from '@iotwire/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttClient, type MqttClientOptions } from '../src/index.js';
import { until } from './helpers/fake-server.js';
import { collectMessages, type Transport, transportOptions } from './helpers/transports.js';

let broker: MosquittoPeer;
let pki: TestPki;
const clients: MqttClient[] = [];

beforeAll(async () => {
  pki = createTestPki({ clients: ['device-1'] });
  broker = await startMosquitto({
    websockets: true,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireCertificate: true },
  });
});
afterAll(async () => {
  for (const c of clients) c.interrupt();
  await broker?.stop();
});

function opts(t: Transport, o: MqttClientOptions = {}): MqttClientOptions {
  return transportOptions(t, { tcp: broker.port, tls: broker.tlsPort ?? 0, ws: broker.wsPort ?? 0 }, pki, o);
}
function make(t: Transport, o: MqttClientOptions = {}): MqttClient {
  const c = new MqttClient(opts(t, o));
  clients.push(c);
  return c;
}
const collect = collectMessages;
let seq = 0;
const uniq = (p: string) => `${p}/${process.pid}-${Date.now()}-${seq++}`;

describe.each([4, 5] as const)('MQTT %s', (version) => {
  describe.each(['tcp', 'tls', 'ws'] as const)('over %s', (transport) => {
    it('publishes and receives at QoS 0/1/2, retained messages, unsubscribe', async () => {
      const topic = uniq(`it/${transport}`);
      const sub = make(transport, { protocolVersion: version });
      const pub = make(transport, { protocolVersion: version });
      const events: string[] = [];
      sub.on('connected', (e) => events.push(`connected ${e.statusCode}`));
      sub.on('subscribed', (e) => events.push(`subscribed ${e.topicFilter} ${e.qos}`));
      await sub.connect();
      await pub.connect();
      await pub.publish(`${topic}/retained`, 'kept', { qos: 1, retain: true });
      const got = collect(sub);
      expect(await sub.subscribe(`${topic}/#`, { qos: 2 })).toEqual([{ topicFilter: `${topic}/#`, reasonCode: 2 }]);
      await until(() => got.length === 1);
      expect(got[0]).toMatchObject({ topic: `${topic}/retained`, retain: true });
      const results = await Promise.all([
        pub.publish(`${topic}/0`, 'zero'),
        pub.publish(`${topic}/1`, 'one', { qos: 1 }),
        pub.publish(`${topic}/2`, Buffer.from([0, 1, 2]), { qos: 2 }),
      ]);
      expect(results.map((r) => r.reasonCode)).toEqual([0, 0, 0]);
      await until(() => got.length === 4);
      const byTopic = Object.fromEntries(
        got.slice(1).map((m) => [m.topic.slice(topic.length + 1), [m.qos, Buffer.from(m.payload).toString('hex')]]),
      );
      expect(byTopic).toEqual({
        '0': [0, Buffer.from('zero').toString('hex')],
        '1': [1, Buffer.from('one').toString('hex')],
        '2': [2, '000102'],
      });
      expect(await sub.unsubscribe(`${topic}/#`)).toMatchObject({ reasonCodes: [0] });
      await pub.publish(`${topic}/after`, 'x', { qos: 1 });
      await pub.publish(`${topic}/retained`, '', { qos: 1, retain: true }); // clears the retained message
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toHaveLength(4);
      expect(events).toEqual(['connected 0', `subscribed ${topic}/# 2`]);
      if (transport !== 'ws') expect(sub.remotePort).toBe(transport === 'tcp' ? broker.port : broker.tlsPort);
      await sub.disconnect();
      await pub.disconnect();
    });
  });

  it('keeps a persistent session: queued QoS 1 messages arrive on reconnect with session present', async () => {
    const topic = uniq('it/session');
    const clientId = uniq('persist').replaceAll('/', '-');
    const a = make('tcp', { protocolVersion: version, clientId, clean: false, sessionExpiryInterval: 300 });
    await a.connect();
    await a.subscribe(topic, { qos: 1 });
    await a.disconnect();
    const p = make('tcp', { protocolVersion: version });
    await p.connect();
    for (let i = 0; i < 5; i++) await p.publish(topic, `m${i}`, { qos: 1 });
    const got = collect(a);
    const r = await a.connect();
    expect(r.sessionPresent).toBe(true);
    await until(() => got.length === 5);
    expect(got.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await a.disconnect(version === 5 ? { properties: { sessionExpiryInterval: 0 } } : {});
    await p.disconnect();
  });

  it('publishes the Will on an ungraceful close, not on disconnect()', async () => {
    const topic = uniq('it/will');
    const watcher = make('tcp', { protocolVersion: version });
    await watcher.connect();
    const got = collect(watcher);
    await watcher.subscribe(`${topic}/#`, { qos: 1 });
    const graceful = make('tcp', { protocolVersion: version, will: { topic: `${topic}/g`, payload: 'no', qos: 1 } });
    await graceful.connect();
    await graceful.disconnect();
    const crashing = make('tcp', { protocolVersion: version, will: { topic: `${topic}/c`, payload: 'gone', qos: 1, retain: false } });
    await crashing.connect();
    crashing.interrupt();
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: `${topic}/c` });
    expect(got[0]!.text).toBe('gone');
    if (version === 5) {
      const withWill = make('tcp', {
        protocolVersion: 5,
        will: { topic: `${topic}/w`, payload: 'asked', properties: { contentType: 'text/plain' } },
      });
      await withWill.connect();
      await withWill.disconnect({ reasonCode: 0x04 });
      await until(() => got.length === 2);
      expect(got[1]).toMatchObject({ topic: `${topic}/w` });
      expect(got[1]!.contentType).toBe('text/plain');
    }
    await watcher.disconnect();
  });
});

describe('MQTT 5 features against Mosquitto', () => {
  it('carries properties end to end: user properties, content type, correlation data, expiry, subscription ids', async () => {
    const topic = uniq('it/props');
    const sub = make('tcp', { protocolVersion: 5 });
    const pub = make('tcp', { protocolVersion: 5 });
    await sub.connect();
    await pub.connect();
    const got = collect(sub);
    await sub.subscribe(`${topic}/#`, { qos: 1, subscriptionIdentifier: 7 });
    await sub.subscribe(`${topic}/+`, { qos: 1, subscriptionIdentifier: 9 });
    const r = await pub.publish(`${topic}/a`, '{"x":1}', {
      qos: 1,
      properties: {
        contentType: 'application/json',
        payloadFormatIndicator: 1,
        correlationData: Buffer.from('c0ffee', 'hex'),
        responseTopic: `${topic}/reply`,
        messageExpiryInterval: 120,
        userProperties: [
          ['trace', '1'],
          ['trace', '2'],
        ],
      },
    });
    expect(r.reasonCode).toBe(0);
    // Mosquitto delivers one copy per matching subscription, each with its identifier.
    await until(() => got.length === 2);
    expect(got.flatMap((x) => x.subscriptionIdentifiers).sort()).toEqual([7, 9]);
    const m = got[0]!;
    expect(m.contentType).toBe('application/json');
    expect(m.payloadFormatIndicator).toBe(1);
    expect(Buffer.from(m.correlationData!).toString('hex')).toBe('c0ffee');
    expect(m.responseTopic).toBe(`${topic}/reply`);
    expect(m.messageExpiryInterval).toBeLessThanOrEqual(120);
    expect(m.userProperties).toEqual([
      ['trace', '1'],
      ['trace', '2'],
    ]);
    await sub.disconnect();
    await pub.disconnect();
  });

  it('No Local, Retain As Published and Retain Handling', async () => {
    const topic = uniq('it/opts');
    const c = make('tcp', { protocolVersion: 5 });
    await c.connect();
    const got = collect(c);
    await c.publish(`${topic}/r`, 'retained', { qos: 1, retain: true });
    await c.subscribe([{ topicFilter: `${topic}/nl`, qos: 1, noLocal: true }]);
    await c.subscribe([{ topicFilter: `${topic}/r`, qos: 1, retainHandling: 2 }]);
    await c.subscribe([{ topicFilter: `${topic}/rap`, qos: 1, retainAsPublished: true }]);
    await c.publish(`${topic}/nl`, 'mine', { qos: 1 });
    await c.publish(`${topic}/rap`, 'kept-flag', { qos: 1, retain: true });
    await until(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((m) => [m.topic.slice(topic.length + 1), m.retain])).toEqual([['rap', true]]);
    await c.publish(`${topic}/r`, '', { qos: 1, retain: true });
    await c.publish(`${topic}/rap`, '', { qos: 1, retain: true });
    await c.disconnect();
  });

  it('assigns topic aliases within the server maximum and messages still reach the right topics', async () => {
    const topic = uniq('it/alias');
    const sub = make('tcp', { protocolVersion: 5 });
    const pub = make('tcp', { protocolVersion: 5 });
    await sub.connect();
    await pub.connect();
    expect(pub.serverTopicAliasMaximum).toBeGreaterThan(0); // Mosquitto allows 10 by default
    const got = collect(sub);
    await sub.subscribe(`${topic}/#`, { qos: 1 });
    const topics = Array.from({ length: 15 }, (_, i) => `${topic}/t${i % 12}`);
    for (const t of topics) await pub.publish(t, t, { qos: 1 });
    await until(() => got.length === topics.length);
    expect(got.map((m) => m.topic)).toEqual(topics);
    expect(got.every((m) => m.text === m.topic)).toBe(true);
    await sub.disconnect();
    await pub.disconnect();
  });

  it('request/response between two clients', async () => {
    const base = uniq('it/rpc');
    const server = make('tcp', { protocolVersion: 5 });
    const caller = make('tcp', { protocolVersion: 5, responseTopic: `${base}/responses` });
    await server.connect();
    await caller.connect();
    server.on('messageIn', (m) => {
      if (m.topic === `${base}/add`) {
        const [a, b] = JSON.parse(m.text) as [number, number];
        server.respond(m, String(a + b), { qos: 1 });
      }
    });
    await server.subscribe(`${base}/add`, { qos: 1 });
    await caller.subscribe(`${base}/responses`, { qos: 1 });
    const answers = await Promise.all([
      caller.request(`${base}/add`, '[1,2]', { qos: 1, responseTopic: `${base}/responses` }),
      caller.request(`${base}/add`, '[40,2]', { qos: 1, responseTopic: `${base}/responses` }),
    ]);
    expect(answers.map((m) => m.text)).toEqual(['3', '42']);
    await server.disconnect();
    await caller.disconnect();
  });

  it('honours the server Receive Maximum (Mosquitto max_inflight_messages)', async () => {
    const peer = await startMosquitto({ extraConfig: ['max_inflight_messages 3'] });
    try {
      const c = new MqttClient({ url: `mqtt://127.0.0.1:${peer.port}`, protocolVersion: 5 });
      clients.push(c);
      const r = await c.connect();
      expect(r.properties?.receiveMaximum).toBe(3);
      let maxInFlight = 0;
      const ps = Array.from({ length: 40 }, (_, i) => {
        const p = c.publish(`rm/${i}`, 'x', { qos: 2 });
        maxInFlight = Math.max(maxInFlight, c.outgoingMessages.length);
        return p;
      });
      await Promise.all(ps);
      expect(maxInFlight).toBe(3);
      await c.disconnect();
    } finally {
      await peer.stop();
    }
  });
});

describe('TLS against Mosquitto', () => {
  it('reports the server certificate verdict and TLS facts', async () => {
    const c = make('tls', { protocolVersion: 5 });
    const verdicts: { status: string; subject?: string }[] = [];
    c.on('sslServerAuthentication', (v) => verdicts.push({ status: v.status, subject: v.subject }));
    const ssl: string[] = [];
    c.on('sslStatus', (e) => ssl.push(e.message));
    await c.connect();
    expect(verdicts).toEqual([{ status: 'OK', subject: expect.stringContaining('CN=localhost') }]);
    expect(c.tlsInfo?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(ssl.join()).toMatch(/handshake complete/);
    await c.disconnect();
  });

  it('rejects an untrusted server (ERR_TLS_CERT_REJECTED, 280) unless the certificate is pinned or a handler accepts it', async () => {
    const rogue = createTestPki();
    const untrusted = make('tls', { tls: { ca: rogue.ca.cert, cert: pki.clients['device-1']!.cert, key: pki.clients['device-1']!.key } });
    await expect(untrusted.connect()).rejects.toMatchObject({ code: 'ERR_TLS_CERT_REJECTED', errorCode: 280 });
    const fingerprint = createHash('sha256').update(new X509Certificate(pki.server.cert).raw).digest('hex');
    const pinned = make('tls', {
      tls: { ca: rogue.ca.cert, acceptServerCert: fingerprint, cert: pki.clients['device-1']!.cert, key: pki.clients['device-1']!.key },
    });
    await pinned.connect();
    await pinned.disconnect();
    const handler = make('tls', { tls: { ca: rogue.ca.cert, cert: pki.clients['device-1']!.cert, key: pki.clients['device-1']!.key } });
    handler.on('sslServerAuthentication', (v) => {
      expect(v.accept).toBe(false);
      v.accept = true;
    });
    await handler.connect();
    await handler.disconnect();
  });

  it('the server refuses a client without a certificate', async () => {
    const c = make('tls', { tls: { ca: pki.ca.cert } });
    await expect(c.connect()).rejects.toMatchObject({ code: expect.stringMatching(/ERR_TLS_HANDSHAKE|ERR_CONNECTION_LOST|ERR_TRANSPORT/) });
  });
});

describe('WebSocket against Mosquitto', () => {
  it('uses the mqtt subprotocol and the path from the URL or wsPath; host with ws:// prefix (connectTo)', async () => {
    const c = make('ws', { protocolVersion: 4 });
    await c.connectTo(`ws://127.0.0.1:${broker.wsPort}`);
    expect(c.connected).toBe(true);
    await c.disconnect();
  });
});
