import { describe, expect, it } from 'vitest';
import { startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

describe('smoke', () => {
  it('connects, subscribes and routes QoS 0/1/2', async () => {
    const { port } = await startBroker();
    const { client: sub, connack } = await RawClient.connect(port, { clientId: 'sub' });
    expect(connack.reasonCode).toBe(0);
    sub.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'a/+', qos: 2 }] });
    expect((await sub.next('suback')).reasonCodes).toEqual([2]);
    const { client: pub } = await RawClient.connect(port, { clientId: 'pub', protocolVersion: 5 });
    pub.send({ type: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    const m0 = await sub.next('publish');
    expect(m0.payload.toString()).toBe('x');
    pub.send({ type: 'publish', topic: 'a/c', payload: Buffer.from('y'), qos: 1, retain: false, dup: false, packetId: 7 });
    expect((await pub.next('puback')).packetId).toBe(7);
    const m1 = await sub.next('publish');
    expect(m1.qos).toBe(1);
    sub.send({ type: 'puback', packetId: m1.packetId! });
    pub.send({ type: 'publish', topic: 'a/d', payload: Buffer.from('z'), qos: 2, retain: false, dup: false, packetId: 8 });
    expect((await pub.next('pubrec')).packetId).toBe(8);
    pub.send({ type: 'pubrel', packetId: 8 });
    expect((await pub.next('pubcomp')).packetId).toBe(8);
    const m2 = await sub.next('publish');
    expect(m2.qos).toBe(2);
    sub.send({ type: 'pubrec', packetId: m2.packetId! });
    expect((await sub.next('pubrel')).packetId).toBe(m2.packetId);
    sub.send({ type: 'pubcomp', packetId: m2.packetId! });
    pub.destroy();
    sub.destroy();
  });
});
