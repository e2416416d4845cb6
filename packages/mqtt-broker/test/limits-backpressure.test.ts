// Limits and back-pressure: a slow subscriber is bounded and does not slow others.
import { describe, expect, it } from 'vitest';
import { startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

describe('slow subscriber', () => {
  it('queues within maxQueuedMessages, drops QoS 0 first, and does not hold back a fast subscriber', async () => {
    const { broker, port } = await startBroker({ limits: { maxQueuedMessages: 50 } });
    const { client: slow } = await RawClient.connect(port, { clientId: 'slow' });
    slow.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'flood', qos: 1 }] });
    await slow.next('suback');
    slow.socket.pause(); // stops reading: the kernel buffers fill, then the broker's
    const { client: fast } = await RawClient.connect(port, { clientId: 'fast' });
    fast.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'flood', qos: 0 }] });
    await fast.next('suback');
    let received = 0;
    const receivedAtLeast = (n: number) =>
      new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          received += fast.packets.splice(0).filter((p) => p.type === 'publish').length;
          if (received >= n) {
            clearInterval(tick);
            resolve();
          }
        }, 5);
      });
    const { client: pub } = await RawClient.connect(port);
    const payload = Buffer.alloc(8 * 1024, 0x61);
    // Batches of 50 (≈ 410 KB), each sent once the fast subscriber has the previous one: the
    // fast subscriber never has more than maxSendBuffer (1 MiB) waiting, however loaded the
    // machine, while the paused one falls behind by the whole flood.
    for (let i = 0; i < 3000; i++) {
      // Every tenth message is QoS 1: those must be the ones kept for the slow client.
      pub.send({
        type: 'publish',
        topic: 'flood',
        payload,
        qos: i % 10 === 0 ? 1 : 0,
        retain: false,
        dup: false,
        ...(i % 10 === 0 ? { packetId: (i % 60000) + 1 } : {}),
      });
      if ((i + 1) % 50 === 0) await receivedAtLeast(i + 1);
    }
    const s = broker.sessions.get('slow')!;
    expect(s.dropped).toBeGreaterThan(0);
    const queued = s.outgoingMessages.filter((m) => m.State === 1);
    expect(queued.length).toBeLessThanOrEqual(50);
    expect(received).toBe(3000);
  }, 30_000);
});

describe('limits', () => {
  it('maxConnections closes connections beyond the limit at once', async () => {
    const { port } = await startBroker({ limits: { maxConnections: 2 } });
    await RawClient.connect(port);
    await RawClient.connect(port);
    const third = await RawClient.open(port);
    await third.expectClose();
  });

  it('maxInflight caps the outgoing window even when the client allows more', async () => {
    const { port } = await startBroker({ limits: { maxInflight: 3 } });
    const { client: sub } = await RawClient.connect(port);
    sub.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'w', qos: 1 }] });
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port);
    for (let i = 1; i <= 6; i++)
      pub.send({ type: 'publish', topic: 'w', payload: Buffer.from(String(i)), qos: 1, retain: false, dup: false, packetId: i });
    const first = [await sub.next('publish'), await sub.next('publish'), await sub.next('publish')];
    expect(await sub.none('publish', 300)).toBe(true);
    for (const m of first) sub.send({ type: 'puback', packetId: m.packetId! });
    const rest = [await sub.next('publish'), await sub.next('publish'), await sub.next('publish')];
    expect([...first, ...rest].map((m) => m.payload.toString())).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('resolveLimits rejects values that cannot work', async () => {
    const { resolveLimits } = await import('../src/index.js');
    expect(() => resolveLimits({ maxTopicLength: 70_000 })).toThrow(RangeError);
    expect(resolveLimits({}).maxSendBuffer).toBe(1024 * 1024);
  });
});
