// MQTT 5.0 §3.1 CONNECT, §3.2 CONNACK, §3.12 PINGREQ, §4.1 sessions, Wills, Keep Alive.
import { describe, expect, it } from 'vitest';
import * as check from '../checks/connect.js';
import {
  bye,
  cid,
  connect,
  drop,
  nextEvent,
  pub,
  RawClient,
  rawConnect,
  recordBytes,
  sendConnect,
  startBroker,
  subscribe,
  subscriber,
} from '../helpers.js';

const V = 5;

/** The connection closed; anything sent before the close was one CONNACK with a code >= 0x80. */
async function closedWithFailedConnackAtMost(c: RawClient, bytes: () => Buffer): Promise<void> {
  await c.expectClose();
  const b = bytes();
  if (b.length > 0) {
    expect(b[0]).toBe(0x20);
    expect(c.packets.every((p) => p.type === 'connack' && p.reasonCode >= 0x80)).toBe(true);
  }
}

describe('5.0 CONNECT / CONNACK', () => {
  it('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection without any answer', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port, V);
    const rec = recordBytes(c);
    c.send({ type: 'pingreq' });
    await c.expectClose();
    expect(rec.bytes().length).toBe(0);
  });

  it('[MQTT-3.1.0-2] [MQTT-4.13.1-1] a second CONNECT is a Protocol Error: DISCONNECT 0x82 and close', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'again' });
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
    await client.expectClose();
  });

  it('[MQTT-3.1.2-1] [MQTT-3.1.4-1] a protocol name other than "MQTT" closes (at most a failing CONNACK first)', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port, V);
    const rec = recordBytes(c);
    c.sendRaw(rawConnect(V, 'MQTX', 5, 0x02));
    await closedWithFailedConnackAtMost(c, rec.bytes);
  });

  it('[MQTT-3.1.2-2] an unsupported Protocol Version gets a refusing CONNACK and a close', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port, V);
    const rec = recordBytes(c);
    c.sendRaw(rawConnect(V, 'MQTT', 6, 0x02));
    await c.expectClose();
    const b = rec.bytes();
    expect(b[0]).toBe(0x20);
    // 3.1.1-shaped 0x01 (what a client of any level can read) or 5.0-shaped 0x84.
    expect([0x01, 0x84]).toContain(b[3]);
  });

  it('[MQTT-3.1.2-3] the reserved CONNECT flag set closes the connection', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port, V);
    const rec = recordBytes(c);
    c.sendRaw(rawConnect(V, 'MQTT', 5, 0x03));
    await closedWithFailedConnackAtMost(c, rec.bytes);
  });

  it('[MQTT-3.1.2-4] [MQTT-3.1.4-4] [MQTT-3.2.2-2] Clean Start 1 discards an existing session: Session Present 0, no old subscriptions', async () => {
    const { port } = await startBroker();
    const id = cid('cs');
    const a = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    await subscribe(a.client, 'cs/t', 1);
    await bye(a.client);
    const b = await connect(port, V, { clientId: id, clean: true, properties: { sessionExpiryInterval: 60 } });
    expect(b.connack.sessionPresent).toBe(false);
    const { client: p } = await connect(port, V);
    p.send(pub('cs/t', 'x', 1));
    await p.next('puback');
    expect(await b.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.1.2-5] [MQTT-3.1.2-6] [MQTT-3.2.2-3] [MQTT-3.1.3-2] [MQTT-3.1.2-23] [MQTT-4.1.0-1] Clean Start 0 creates, keeps and resumes the session of the ClientID', async () => {
    const { broker, port } = await startBroker();
    const id = cid('rs');
    const a = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(a.connack.sessionPresent).toBe(false);
    await subscribe(a.client, 'rs/t', 1);
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const { client: p } = await connect(port, V);
    p.send(pub('rs/t', 'queued', 1));
    await p.next('puback');
    const other = await connect(port, V, { clientId: cid('zz'), clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(other.connack.sessionPresent).toBe(false);
    const b = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect([b.connack.sessionPresent, b.connack.reasonCode]).toEqual([true, 0]);
    expect((await b.client.next('publish')).payload.toString()).toBe('queued');
  });

  it('[MQTT-4.1.0-2] the session is discarded once the Session Expiry Interval passed after the close', async () => {
    const { broker, port } = await startBroker();
    const id = cid('ex');
    const a = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 1 } });
    await subscribe(a.client, 'ex/t', 1);
    const removed = nextEvent<{ clientId: string }>(broker, 'sessionRemoved', (e) => e.clientId === id, 8000);
    await drop(a.client);
    await removed;
    const b = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 1 } });
    expect(b.connack.sessionPresent).toBe(false);
  });

  it('[MQTT-3.1.2-7] [MQTT-3.1.2-8] [MQTT-3.1.2-14] the Will is stored and published non-retained when the connection drops', () =>
    check.willOnDrop(V));

  it('[MQTT-3.1.2-15] Will Retain 1 publishes the Will retained', () => check.willRetained(V));

  it('[MQTT-3.1.2-10] [MQTT-3.14.4-3] DISCONNECT 0x00 discards the Will; a published Will is gone from the session', () =>
    check.disconnectDiscardsWill(V));

  it('[MQTT-3.1.3-9] [MQTT-3.1.2-8] with a Will Delay, reconnecting in time suppresses the Will; the session ending publishes it', async () => {
    const { broker, port } = await startBroker();
    const w = await subscriber(port, V, 'will/#');
    const will = { topic: 'will/d', payload: Buffer.from('late'), qos: 0 as const, retain: false, properties: { willDelayInterval: 1 } };
    const id = cid('wd');
    const a = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 }, will });
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const b = await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 1 }, will });
    expect(b.connack.sessionPresent).toBe(true);
    expect(await w.none('publish', 1500)).toBe(true);
    await drop(b.client);
    expect((await w.next('publish', 6000)).topic).toBe('will/d');
  });

  it('[MQTT-3.1.3-10] the Will keeps the order of its User Properties (and its other properties)', async () => {
    const { port } = await startBroker();
    const w = await subscriber(port, V, 'will/#');
    const userProperties: [string, string][] = [
      ['k', '1'],
      ['a', '2'],
      ['k', '3'],
      ['z', '4'],
    ];
    const properties = {
      userProperties,
      contentType: 'text/plain',
      responseTopic: 'will/reply',
      correlationData: Buffer.from([9, 8]),
      payloadFormatIndicator: 1 as const,
      messageExpiryInterval: 120,
    };
    const { client } = await connect(port, V, { will: { topic: 'will/u', payload: Buffer.from('u'), qos: 0, retain: false, properties } });
    await drop(client);
    const m = await w.next('publish');
    expect(m.properties?.userProperties).toEqual(userProperties);
    expect([m.properties?.contentType, m.properties?.responseTopic, m.properties?.payloadFormatIndicator]).toEqual([
      'text/plain',
      'will/reply',
      1,
    ]);
    expect(Buffer.from(m.properties?.correlationData ?? []).toString('hex')).toBe('0908');
    expect(m.properties?.messageExpiryInterval).toBeGreaterThan(100);
  });

  it("[MQTT-3.1.2-22] [MQTT-3.2.2-22] Keep Alive enforced at 1.5x (DISCONNECT 0x8D): the client's without Server Keep Alive, else the announced one", async () => {
    const own = await startBroker();
    const capped = await startBroker({ maxKeepAlive: 1 });
    const a = await connect(own.port, V, { keepAlive: 1 });
    expect(a.connack.properties?.serverKeepAlive).toBeUndefined();
    const b = await connect(capped.port, V, { keepAlive: 0 });
    expect(b.connack.properties?.serverKeepAlive).toBe(1);
    const started = Date.now();
    const [da, db] = await Promise.all([a.client.next('disconnect', 10_000), b.client.next('disconnect', 10_000)]);
    expect([da.reasonCode, db.reasonCode]).toEqual([0x8d, 0x8d]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await Promise.all([a.client.expectClose(), b.client.expectClose()]);
  });

  it('[MQTT-3.1.2-8] DISCONNECT 0x04 (with Will Message) does not delete the Will: it is published', async () => {
    const { port } = await startBroker();
    const w = await subscriber(port, V, 'will/#');
    const { client } = await connect(port, V, { will: { topic: 'will/k', payload: Buffer.from('k'), qos: 0, retain: false } });
    await bye(client, 0x04);
    expect((await w.next('publish')).topic).toBe('will/k');
  });

  it('[MQTT-3.1.3-5] [MQTT-3.1.4-5] a 23-character alphanumeric ClientID is accepted with CONNACK 0x00', () =>
    check.longClientIdAccepted(V));

  it('[MQTT-3.1.3-6] [MQTT-3.1.3-7] [MQTT-3.2.2-16] a zero-length ClientID is assigned a new unique id, returned in CONNACK and used', async () => {
    const { broker, port } = await startBroker();
    const a = await connect(port, V, { clientId: '' });
    const b = await connect(port, V, { clientId: '' });
    const ia = a.connack.properties?.assignedClientIdentifier as string;
    const ib = b.connack.properties?.assignedClientIdentifier as string;
    expect(ia).toBeTruthy();
    expect(ib).toBeTruthy();
    expect(ia).not.toBe(ib);
    const ids = [...broker.connections.values()].map((c) => c.clientId);
    expect(ids).toContain(ia);
    expect(ids).toContain(ib);
    expect([...broker.sessions.keys()].filter((k) => k === ia)).toHaveLength(1);
  });

  it('[MQTT-3.1.3-8] a rejected ClientID gets CONNACK 0x85 and a close', () => check.clientIdRejected(V));

  it('[MQTT-3.1.4-2] [MQTT-3.2.2-6] [MQTT-3.2.2-7] [MQTT-3.2.2-8] [MQTT-4.13.2-1] failed authentication: CONNACK 0x86 with Session Present 0, then a close', async () => {
    const { broker, port } = await startBroker();
    broker.on('sessionRequest', (e) => {
      if (e.password?.toString() !== 'ok') {
        e.accept = false;
        e.reasonCode = 0x86;
      }
    });
    const id = cid('au');
    await connect(port, V, {
      clientId: id,
      clean: false,
      username: 'u',
      password: Buffer.from('ok'),
      properties: { sessionExpiryInterval: 60 },
    }).then((r) => bye(r.client));
    const c = await RawClient.open(port, V);
    const rec = recordBytes(c);
    c.send({ type: 'connect', protocolVersion: 5, clean: false, keepAlive: 0, clientId: id, username: 'u', password: Buffer.from('no') });
    const ack = await c.next('connack');
    expect([ack.reasonCode, ack.sessionPresent]).toEqual([0x86, false]);
    await c.expectClose();
    expect(rec.bytes()[2]).toBe(0x00);
  });

  it('[MQTT-3.1.4-3] a second connection with the ClientID: DISCONNECT 0x8E to the existing client, which is closed', () =>
    check.takeOver(V));

  it('[MQTT-3.1.4-3] [MQTT-3.1.2-8] a take-over publishes the Will of the existing connection (no Will Delay)', () =>
    check.takeOverPublishesWill(V));

  it('[MQTT-3.2.2-3] Clean Start 0 after a session that expired on disconnect (interval 0): Session Present 0', async () => {
    const { port } = await startBroker();
    const id = cid('z0');
    const a = await connect(port, V, { clientId: id, clean: false });
    await subscribe(a.client, 'z0', 1);
    await bye(a.client);
    const b = await connect(port, V, { clientId: id, clean: false });
    expect(b.connack.sessionPresent).toBe(false);
  });

  it('[MQTT-3.1.4-6] after a rejected CONNECT the packets behind it are not processed', () => check.nothingAfterRejectedConnect(V));

  it('[MQTT-3.2.0-1] [MQTT-3.2.0-2] [MQTT-3.2.2-1] CONNACK comes first, once, with flag bits 7-1 zero', async () => {
    const { port } = await startBroker();
    const id = cid('ca');
    await connect(port, V, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } }).then((r) => bye(r.client));
    const c = await RawClient.open(port, V);
    const rec = recordBytes(c);
    c.send({ type: 'connect', protocolVersion: 5, clean: false, keepAlive: 0, clientId: id, properties: { sessionExpiryInterval: 60 } });
    c.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'a', qos: 0 }] });
    c.send({ type: 'pingreq' });
    await c.next('pingresp');
    const b = rec.bytes();
    expect(b[0]).toBe(0x20);
    expect(b[2]).toBe(0x01); // Session Present only
    expect(c.packets.filter((p) => p.type === 'connack')).toHaveLength(1);
    await c.next('connack');
    expect(await c.none('connack', 200)).toBe(true);
  });

  it('[MQTT-3.2.2-9] [MQTT-3.2.2-10] a server limited to QoS 1 says so in CONNACK and still accepts SUBSCRIBE at QoS 0, 1 and 2', async () => {
    const { port } = await startBroker({ maximumQoS: 1 });
    const { client, connack } = await connect(port, V);
    expect(connack.properties?.maximumQoS).toBe(1);
    const ack = await subscribe(client, [
      { topicFilter: 'a', qos: 0 },
      { topicFilter: 'b', qos: 1 },
      { topicFilter: 'c', qos: 2 },
    ]);
    expect(ack.reasonCodes).toEqual([0, 1, 1]);
  });

  it('[MQTT-3.2.2-12] a Will QoS above the Maximum QoS is refused with CONNACK 0x9B and a close', async () => {
    const { port } = await startBroker({ maximumQoS: 1 });
    const c = await sendConnect(port, V, { will: { topic: 'w', payload: Buffer.from('x'), qos: 2, retain: false } });
    expect((await c.next('connack')).reasonCode).toBe(0x9b);
    await c.expectClose();
  });

  it('[MQTT-3.2.2-13] a retained Will without retain support is refused with CONNACK 0x9A and a close', async () => {
    const { port } = await startBroker({ retainAvailable: false });
    const c = await sendConnect(port, V, { will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: true } });
    expect((await c.next('connack')).reasonCode).toBe(0x9a);
    await c.expectClose();
  });

  it("[MQTT-3.2.2-19] [MQTT-3.2.2-20] a refusing CONNACK drops its Reason String and User Properties rather than exceed the client's Maximum Packet Size", async () => {
    const { broker, port } = await startBroker();
    broker.on('sessionRequest', (e) => {
      e.accept = false;
      e.reasonCode = 0x87;
      e.reasonString = 'you are not on the list of clients allowed to connect here';
    });
    const roomy = await sendConnect(port, V);
    expect((await roomy.next('connack')).properties?.reasonString).toMatch(/not on the list/);
    const tight = await RawClient.open(port, V);
    const rec = recordBytes(tight);
    tight.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: cid(), properties: { maximumPacketSize: 16 } });
    const ack = await tight.next('connack');
    expect(ack.reasonCode).toBe(0x87);
    expect(ack.properties?.reasonString).toBeUndefined();
    await tight.expectClose();
    expect(rec.bytes().length).toBeLessThanOrEqual(16);
  });

  it('[MQTT-3.1.2-28] Response Information only when requested', async () => {
    const { port } = await startBroker({ responseInformation: 'reply/here' });
    const asked = await connect(port, V, { properties: { requestResponseInformation: true } });
    expect(asked.connack.properties?.responseInformation).toBe('reply/here');
    const silent = await connect(port, V, { properties: { requestResponseInformation: false } });
    expect(silent.connack.properties?.responseInformation).toBeUndefined();
    const none = await connect(port, V);
    expect(none.connack.properties?.responseInformation).toBeUndefined();
  });

  it('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send({ type: 'pingreq' });
    await client.next('pingresp');
  });
});
