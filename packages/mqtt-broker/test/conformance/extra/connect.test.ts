// Broker behaviour beyond single normative statements (events, hooks, session JSON, MQTT 3.1,
// limits), kept from the first conformance suite; ids cited here are informative only. The
// statement-by-statement suite is ../v311 (MQTT 3.1.1) and ../v5 (MQTT 5.0), see ../statements.ts.
// CONNECT: assigned ids, MQTT 3.1, sessionRequest, timeouts, DISCONNECT details.
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';

describe('CONNECT (3.1.1 §3.1, 5.0 §3.1)', () => {
  it('5.0 §3.2.2.3.7: the assigned client identifier is returned in CONNACK', async () => {
    const { port } = await startBroker();
    const { connack } = await RawClient.connect(port, { protocolVersion: 5, clientId: '' });
    expect(connack.properties?.assignedClientIdentifier).toMatch(/^iotwire-/);
  });

  it('MQTT 3.1 (MQIsdp) clients connect; an empty 3.1 client id gets 0x02', async () => {
    const { port } = await startBroker();
    const { connack } = await RawClient.connect(port, { protocolVersion: 3, clientId: 'old' });
    expect(connack.reasonCode).toBe(0);
    const c = await RawClient.open(port, 3);
    // MQIsdp level 3, clean, keep alive 0, empty client id.
    c.sendRaw([0x10, 0x0e, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00]);
    await c.expectClose();
    expect((c.packets[0] as { reasonCode: number } | undefined)?.reasonCode).toBe(2);
  });

  it('sessionRequest: refusing sends CONNACK 0x05 (3.1.1) / 0x87 or the chosen code (5.0) and closes', async () => {
    const { broker, port } = await startBroker();
    broker.on('sessionRequest', (e) => {
      if (e.userName !== 'ok') e.accept = false;
      if (e.userName === 'bad') e.reasonCode = 0x86;
    });
    const c3 = await RawClient.open(port);
    c3.send({ type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: 'x', username: 'nope' });
    expect((await c3.next('connack')).reasonCode).toBe(5);
    await c3.expectClose();
    const c5 = await RawClient.open(port, 5);
    c5.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'y', username: 'bad' });
    expect((await c5.next('connack')).reasonCode).toBe(0x86);
    await c5.expectClose();
    const ok = await RawClient.connect(port, { username: 'ok' });
    expect(ok.connack.reasonCode).toBe(0);
  });

  it('sessionRequest may decide asynchronously; packets after CONNECT wait for it, in order', async () => {
    const { broker, port } = await startBroker();
    broker.on('sessionRequest', async (e) => {
      await new Promise((r) => setTimeout(r, 50));
      e.accept = e.password?.toString() === 'secret';
    });
    const c = await RawClient.open(port);
    c.send({
      type: 'connect',
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: 'z',
      username: 'u',
      password: Buffer.from('secret'),
    });
    c.send({ type: 'subscribe', packetId: 3, subscriptions: [{ topicFilter: 't', qos: 1 }] });
    expect((await c.next()).type).toBe('connack');
    expect((await c.next()).type).toBe('suback');
  });
});

describe('Keep Alive and timeouts', () => {
  it('5.0 Server Keep Alive: maxKeepAlive replaces a longer or zero Keep Alive', async () => {
    const { port } = await startBroker({ maxKeepAlive: 30 });
    const { connack } = await RawClient.connect(port, { protocolVersion: 5, keepAlive: 0 });
    expect(connack.properties?.serverKeepAlive).toBe(30);
  });

  it('3.1.4: a socket that never sends CONNECT is closed after connectTimeout', async () => {
    const { port } = await startBroker({ limits: { connectTimeout: 300 } });
    const c = await RawClient.open(port);
    await c.expectClose(5000);
  });

  it('defaultIdleTimeout drops a client without traffic', async () => {
    const { broker, port } = await startBroker({ defaultIdleTimeout: 1 });
    expect(broker.defaultIdleTimeout).toBe(1);
    const { client } = await RawClient.connect(port, { keepAlive: 0 });
    await client.expectClose(5000);
  });
});

describe('DISCONNECT', () => {
  it('5.0 DISCONNECT 0x04 (with Will Message) publishes the Will', async () => {
    const { port } = await startBroker();
    const { client: w } = await RawClient.connect(port);
    w.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'will/#', qos: 0 }] });
    await w.next('suback');
    const { client } = await RawClient.connect(port, {
      protocolVersion: 5,
      will: { topic: 'will/b', payload: Buffer.from('y'), qos: 0, retain: false },
    });
    client.send({ type: 'disconnect', reasonCode: 0x04 });
    expect((await w.next('publish')).topic).toBe('will/b');
  });

  it('[MQTT-3.14.2-2] Session Expiry set on DISCONNECT after 0 in CONNECT is a protocol error', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.send({ type: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
  });
});
