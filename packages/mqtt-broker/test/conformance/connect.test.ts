// CONNECT / CONNACK / DISCONNECT / keep-alive, by normative statement (3.1.1 and 5.0).
import { describe, expect, it } from 'vitest';
import { nextEvent, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

describe('CONNECT (3.1.1 §3.1, 5.0 §3.1)', () => {
  it('[MQTT-3.1.0-1] the first packet must be CONNECT: anything else closes the connection', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    c.send({ type: 'pingreq' });
    await c.expectClose();
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol violation (5.0: DISCONNECT 0x82)', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'again' });
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
    await client.expectClose();
  });

  it('[MQTT-3.1.2-1] a wrong protocol name closes without CONNACK', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    // CONNECT with protocol name "MQTX", level 4.
    c.sendRaw([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x58, 0x04, 0x02, 0x00, 0x00, 0x00, 0x02, 0x61, 0x62]);
    await c.expectClose();
    expect(c.packets).toEqual([]);
  });

  it('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 0x01 and a close', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    c.sendRaw([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x07, 0x02, 0x00, 0x00, 0x00, 0x02, 0x61, 0x62]);
    await c.expectClose();
    const raw = c.packets[0];
    expect(raw?.type).toBe('connack');
    expect((raw as { reasonCode: number }).reasonCode).toBe(1);
  });

  it('[MQTT-3.1.2-3] the reserved CONNECT flag must be 0', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    c.sendRaw([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x03, 0x00, 0x00, 0x00, 0x02, 0x61, 0x62]);
    await c.expectClose();
    expect(c.packets).toEqual([]);
  });

  it('[MQTT-3.1.3-8] an empty client id with CleanSession=0 gets 0x02 (3.1.1)', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    c.sendRaw([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    await c.expectClose();
    expect((c.packets[0] as { reasonCode: number } | undefined)?.reasonCode).toBe(2);
  });

  it('[MQTT-3.1.3-6] an empty client id with CleanSession=1 is assigned a unique id', async () => {
    const { broker, port } = await startBroker();
    const { client, connack } = await RawClient.connect(port, { clientId: '' });
    expect(connack.reasonCode).toBe(0);
    const [conn] = [...broker.connections.values()];
    expect(conn?.clientId).toMatch(/^iotwire-[0-9a-f]{16}$/);
    client.destroy();
  });

  it('5.0 §3.2.2.3.7: the assigned client identifier is returned in CONNACK', async () => {
    const { port } = await startBroker();
    const { connack } = await RawClient.connect(port, { protocolVersion: 5, clientId: '' });
    expect(connack.properties?.assignedClientIdentifier).toMatch(/^iotwire-/);
  });

  it('[MQTT-3.1.3-?] 3.1 (MQIsdp) clients connect; an empty 3.1 client id gets 0x02', async () => {
    const { port } = await startBroker();
    const { connack } = await RawClient.connect(port, { protocolVersion: 3, clientId: 'old' });
    expect(connack.reasonCode).toBe(0);
    const c = await RawClient.open(port, 3);
    // MQIsdp level 3, clean, keep alive 0, empty client id.
    c.sendRaw([0x10, 0x0e, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00]);
    await c.expectClose();
    expect((c.packets[0] as { reasonCode: number } | undefined)?.reasonCode).toBe(2);
  });

  it('[MQTT-3.2.2-1] [MQTT-3.2.2-2] [MQTT-3.2.2-3] Session Present reflects a resumed session', async () => {
    const { port } = await startBroker();
    const a = await RawClient.connect(port, { clientId: 'p', clean: false });
    expect(a.connack.sessionPresent).toBe(false);
    a.client.send({ type: 'disconnect' });
    await a.client.expectClose();
    const b = await RawClient.connect(port, { clientId: 'p', clean: false });
    expect(b.connack.sessionPresent).toBe(true);
    b.client.send({ type: 'disconnect' });
    await b.client.expectClose();
    const c = await RawClient.connect(port, { clientId: 'p', clean: true });
    expect(c.connack.sessionPresent).toBe(false);
    c.client.destroy();
  });

  it('[MQTT-3.1.4-2] a second connection with the same client id takes over (5.0: DISCONNECT 0x8E to the old one)', async () => {
    const { port } = await startBroker();
    const a = await RawClient.connect(port, { protocolVersion: 5, clientId: 'dup' });
    const b = await RawClient.connect(port, { protocolVersion: 5, clientId: 'dup' });
    expect(b.connack.reasonCode).toBe(0);
    expect((await a.client.next('disconnect')).reasonCode).toBe(0x8e);
    await a.client.expectClose();
    b.client.send({ type: 'pingreq' });
    await b.client.next('pingresp');
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
  it('[MQTT-3.1.2-24] no packet within 1.5 x Keep Alive closes the connection (5.0: DISCONNECT 0x8D)', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5, keepAlive: 1 });
    const started = Date.now();
    expect((await client.next('disconnect', 10_000)).reasonCode).toBe(0x8d);
    await client.expectClose();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP, and keeps the connection alive', async () => {
    const { port } = await startBroker();
    // Keep Alive 2 s: pings every 0.5 s leave 2.5 s of slack for a loaded machine.
    const { client } = await RawClient.connect(port, { keepAlive: 2 });
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 500));
      client.send({ type: 'pingreq' });
      await client.next('pingresp');
    }
    expect(client.isClosed).toBe(false);
  });

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
  it('[MQTT-3.14.4-3] a normal DISCONNECT discards the Will', async () => {
    const { port } = await startBroker();
    const { client: w } = await RawClient.connect(port);
    w.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'will/#', qos: 0 }] });
    await w.next('suback');
    const { client } = await RawClient.connect(port, { will: { topic: 'will/a', payload: Buffer.from('x'), qos: 0, retain: false } });
    client.send({ type: 'disconnect' });
    await client.expectClose();
    expect(await w.none('publish', 300)).toBe(true);
  });

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

  it('[MQTT-3.1.2-8] the Will is published when the connection closes without DISCONNECT (retained too)', async () => {
    const { broker, port } = await startBroker();
    const { client } = await RawClient.connect(port, { will: { topic: 'will/c', payload: Buffer.from('z'), qos: 1, retain: true } });
    const gone = nextEvent(broker, 'disconnected');
    client.destroy();
    await gone;
    expect(broker.messages.get('will/c')?.payload.toString()).toBe('z');
  });

  it('5.0 Will Delay Interval: not sent if the session resumes before the delay; sent at session end', async () => {
    const { broker, port } = await startBroker();
    const { client: w } = await RawClient.connect(port);
    w.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'will/#', qos: 0 }] });
    await w.next('suback');
    const will = { topic: 'will/d', payload: Buffer.from('late'), qos: 0 as const, retain: false, properties: { willDelayInterval: 1 } };
    const a = await RawClient.connect(port, {
      protocolVersion: 5,
      clientId: 'wd',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will,
    });
    a.client.destroy();
    await nextEvent(broker, 'disconnected');
    const b = await RawClient.connect(port, {
      protocolVersion: 5,
      clientId: 'wd',
      clean: false,
      properties: { sessionExpiryInterval: 1 },
      will,
    });
    expect(b.connack.sessionPresent).toBe(true);
    expect(await w.none('publish', 1500)).toBe(true);
    b.client.destroy();
    // Delay 1 s, session expiry 1 s: the Will goes out when either ends.
    expect((await w.next('publish', 5000)).topic).toBe('will/d');
  });
});
