// Events (the toolkit's, with their states) and hooks (authorization, interception, enhanced auth).
import { describe, expect, it } from 'vitest';
import type { MessageStatusEvent } from '../src/index.js';
import { nextEvent, startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

describe('events', () => {
  it('connectionRequest can refuse; connected / disconnected bracket a connection', async () => {
    const { broker, port } = await startBroker();
    const log: string[] = [];
    broker.on('connectionRequest', (e) => {
      log.push(`request ${e.address}`);
      e.accept = log.length > 1;
    });
    broker.on('connected', (e) => log.push(`connected ${e.statusCode}`));
    broker.on('disconnected', (e) => log.push(`disconnected ${e.clientId}`));
    const refused = await RawClient.open(port);
    await refused.expectClose();
    const { client } = await RawClient.connect(port, { clientId: 'ev' });
    client.send({ type: 'disconnect' });
    await nextEvent(broker, 'disconnected');
    expect(log).toEqual(['request 127.0.0.1', 'request 127.0.0.1', 'connected 0', 'disconnected ev']);
  });

  it('incoming states 7 → 8 → 9 → 10 and outgoing 1 → 3 → 4 → 5 → 10 for QoS 2; 6 → 10 and 1 → 2 → 10 for QoS 1', async () => {
    const { broker, port } = await startBroker();
    const inc: string[] = [];
    const out: string[] = [];
    const order: string[] = [];
    broker.on('incomingMessageStatus', (e: MessageStatusEvent) => inc.push(`${e.qos}:${e.state}`));
    broker.on('outgoingMessageStatus', (e: MessageStatusEvent) => out.push(`${e.qos}:${e.state}`));
    broker.on('messageReceiving', () => order.push('receiving'));
    broker.on('messageReceived', () => order.push('received'));
    broker.on('messageSending', () => order.push('sending'));
    broker.on('messageSent', () => order.push('sent'));
    const { client: sub } = await RawClient.connect(port);
    sub.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 's', qos: 2 }] });
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 's', payload: Buffer.from('2'), qos: 2, retain: false, dup: false, packetId: 1 });
    await pub.next('pubrec');
    pub.send({ type: 'pubrel', packetId: 1 });
    await pub.next('pubcomp');
    const m = await sub.next('publish');
    sub.send({ type: 'pubrec', packetId: m.packetId! });
    await sub.next('pubrel');
    sub.send({ type: 'pubcomp', packetId: m.packetId! });
    await nextEvent(broker, 'messageSent');
    expect(inc).toEqual(['2:7', '2:8', '2:9', '2:10']);
    expect(out).toEqual(['2:3', '2:4', '2:5', '2:10']);
    inc.length = 0;
    out.length = 0;
    pub.send({ type: 'publish', topic: 's', payload: Buffer.from('1'), qos: 1, retain: false, dup: false, packetId: 2 });
    const m1 = await sub.next('publish');
    sub.send({ type: 'puback', packetId: m1.packetId! });
    await nextEvent(broker, 'messageSent');
    expect(inc).toEqual(['1:6', '1:10']);
    expect(out).toEqual(['1:2', '1:10']);
    expect(order.slice(0, 2)).toEqual(['receiving', 'sending']);
  });

  it('an error listener receives client protocol errors (600) and invalid topics (601)', async () => {
    const { broker, port } = await startBroker();
    const codes: number[] = [];
    broker.on('error', (e) => codes.push(e.errorCode));
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x23]);
    await client.expectClose();
    const { client: c2 } = await RawClient.connect(port);
    c2.sendRaw([0x38, 0x05, 0x00, 0x01, 0x61, 0x78, 0x79]);
    await c2.expectClose();
    expect(codes).toEqual([601, 600]);
  });

  it('a throwing listener does not break the broker', async () => {
    const { broker, port } = await startBroker();
    broker.on('error', () => {});
    broker.on('connected', () => {
      throw new Error('boom');
    });
    const { connack } = await RawClient.connect(port);
    expect(connack.reasonCode).toBe(0);
  });
});

describe('hooks', () => {
  it('authenticate (async) and authorizePublish / authorizeSubscribe', async () => {
    const { broker, port } = await startBroker();
    broker.addHook({
      async authenticate(a) {
        await new Promise((r) => setTimeout(r, 10));
        return a.userName === 'alice';
      },
      authorizePublish: (a) => !a.message.topic.startsWith('forbidden/'),
      authorizeSubscribe: (a) => (a.topicFilter.startsWith('admin/') ? 0x87 : undefined),
    });
    const bad = await RawClient.open(port, 5);
    bad.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'm', username: 'mallory' });
    expect((await bad.next('connack')).reasonCode).toBe(0x87);
    const { client } = await RawClient.connect(port, { protocolVersion: 5, username: 'alice' });
    client.send({
      type: 'subscribe',
      packetId: 1,
      subscriptions: [
        { topicFilter: 'admin/#', qos: 0 },
        { topicFilter: '#', qos: 1 },
      ],
    });
    expect((await client.next('suback')).reasonCodes).toEqual([0x87, 1]);
    client.send({ type: 'publish', topic: 'forbidden/x', payload: Buffer.from('no'), qos: 1, retain: false, dup: false, packetId: 1 });
    expect((await client.next('puback')).reasonCode).toBe(0x87);
    client.send({ type: 'publish', topic: 'open/x', payload: Buffer.from('yes'), qos: 1, retain: false, dup: false, packetId: 2 });
    expect((await client.next('puback')).reasonCode).toBe(0);
    expect((await client.next('publish')).topic).toBe('open/x');
  });

  it('onPublish transforms or drops messages; the in-process publish API goes through the same hooks', async () => {
    const { broker, port } = await startBroker();
    broker.addHook({
      onPublish(a) {
        if (a.message.topic === 'drop') a.drop = true;
        else
          a.message = {
            ...a.message,
            topic: `tagged/${a.message.topic}`,
            payload: Buffer.from(a.message.payload.toString().toUpperCase()),
          };
      },
    });
    const { client } = await RawClient.connect(port);
    client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'tagged/#', qos: 0 }] });
    await client.next('suback');
    expect(await broker.publish({ topic: 'in', payload: 'hello' })).toBe(1);
    const m = await client.next('publish');
    expect([m.topic, m.payload.toString()]).toEqual(['tagged/in', 'HELLO']);
    await expect(broker.publish({ topic: 'drop', payload: 'x' })).rejects.toThrow(/refused/);
  });

  it('enhanced authentication: AUTH challenge/response, then CONNACK with the method; re-authentication', async () => {
    const { broker, port } = await startBroker();
    broker.addHook({
      authMethods: ['SCRAM-TEST'],
      enhancedAuth(a) {
        if (a.step === 0) return { status: 'continue', data: Buffer.from('challenge') };
        return a.data?.toString() === 'response' ? { status: 'success', data: Buffer.from('done') } : { status: 'fail', reasonCode: 0x87 };
      },
    });
    const c = await RawClient.open(port, 5);
    c.send({
      type: 'connect',
      protocolVersion: 5,
      clean: true,
      keepAlive: 0,
      clientId: 'ea',
      properties: { authenticationMethod: 'SCRAM-TEST', authenticationData: Buffer.from('hi') },
    });
    const auth = await c.next('auth');
    expect([auth.reasonCode, Buffer.from(auth.properties!.authenticationData!).toString()]).toEqual([0x18, 'challenge']);
    c.send({
      type: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: 'SCRAM-TEST', authenticationData: Buffer.from('response') },
    });
    const ack = await c.next('connack');
    expect([ack.reasonCode, ack.properties?.authenticationMethod]).toEqual([0, 'SCRAM-TEST']);
    // Re-authenticate.
    c.send({ type: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-TEST' } });
    expect((await c.next('auth')).reasonCode).toBe(0x18);
    c.send({
      type: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: 'SCRAM-TEST', authenticationData: Buffer.from('response') },
    });
    expect((await c.next('auth')).reasonCode).toBe(0);
    // An unknown method is refused with 0x8C.
    const d = await RawClient.open(port, 5);
    d.send({
      type: 'connect',
      protocolVersion: 5,
      clean: true,
      keepAlive: 0,
      clientId: 'eb',
      properties: { authenticationMethod: 'NOPE' },
    });
    expect((await d.next('connack')).reasonCode).toBe(0x8c);
    // A wrong response fails the CONNECT.
    const e = await RawClient.open(port, 5);
    e.send({
      type: 'connect',
      protocolVersion: 5,
      clean: true,
      keepAlive: 0,
      clientId: 'ec',
      properties: { authenticationMethod: 'SCRAM-TEST' },
    });
    await e.next('auth');
    e.send({
      type: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: 'SCRAM-TEST', authenticationData: Buffer.from('wrong') },
    });
    expect((await e.next('connack')).reasonCode).toBe(0x87);
  });

  it('AUTH from a client that did not start enhanced authentication is a protocol error', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.send({ type: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'X' } });
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
  });
});
