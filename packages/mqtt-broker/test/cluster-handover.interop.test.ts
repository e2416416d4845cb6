// The hand-over window of a persistent session moving between nodes (take-over across nodes):
// publishers on all three nodes send QoS 1 and QoS 2 without pause while the subscriber hops
// A→B→C→A→B→C→A. Every acknowledged message must reach it; every QoS 2 message exactly once.
// (The subscriber's client keeps its QoS 2 receive state across its connections, as the
// protocol requires of a client with a persistent session: MQTT.js with one incomingStore.)
import { Store } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHarness, expectEveryAckedOnce, type Received, sleep } from './helpers/cluster-nodes.js';

const h = new ClusterHarness();
beforeAll(() => h.start(['a', 'b', 'c']), 60_000);
afterAll(() => h.stop(), 30_000);

describe('take-over across nodes under sustained traffic', () => {
  it('loses no QoS 1/2 message and delivers QoS 2 exactly once while the subscriber hops between nodes', async () => {
    const store = new Store();
    const opts = { clientId: 'hopper', clean: false, properties: { sessionExpiryInterval: 600 }, incomingStore: store };
    const got: Received[] = [];
    const first = await h.connectCollecting('a', opts, got);
    await first.client.subscribeAsync('hop/#', { qos: 2 });
    await h.announced('a', 'hop/#');

    const acked: { payload: string; qos: 1 | 2 }[] = [];
    let publishing = true;
    const publishers = ['a', 'b', 'c'].map(async (id) => {
      const pub = await h.connect(id, { clientId: `hop-pub-${id}` });
      for (let i = 0; publishing && i < 5000; i++) {
        const qos = (i % 2) + 1;
        const payload = `${id}-${qos}-${i}`;
        await pub.publishAsync(`hop/${qos}`, payload, { qos: qos as 1 | 2 });
        acked.push({ payload, qos: qos as 1 | 2 });
        if (i % 4 === 0) await sleep(2);
      }
    });

    const sessions: boolean[] = [];
    for (const next of ['b', 'c', 'a', 'b', 'c', 'a']) {
      await sleep(250 + Math.floor(Math.random() * 250));
      const moved = await h.connectCollecting(next, opts, got);
      sessions.push(moved.sessionPresent);
    }
    await sleep(300);
    publishing = false;
    await Promise.all(publishers);
    expect(sessions.every(Boolean)).toBe(true);
    expect(acked.length).toBeGreaterThan(100);

    await expectEveryAckedOnce(acked, got, 30_000, 1000);
    // Copies were delivered at the QoS they were published with.
    for (const m of got) expect(m.qos).toBe(Number(m.topic.slice(4)));
  }, 60_000);
});
