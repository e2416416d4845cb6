// A retained message is a delivery of its own each time a subscription asks for it, also while
// the session's hand-over window is open (where a second copy of a *routed* message is dropped).
// The window is held open deterministically: node C is frozen (SIGSTOP), so its fence for the
// hand-over never comes and the old node keeps handing on until C resumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHarness, sleep, until } from './helpers/cluster-nodes.js';

const h = new ClusterHarness();
// nodeTimeout well beyond the time C is frozen: nobody declares it dead meanwhile.
beforeAll(() => h.start(['a', 'b', 'c'], undefined, () => ({ IOTWIRE_TEST_NODE_TIMEOUT: '15000' })), 60_000);
afterAll(() => h.stop(), 30_000);

describe('retained messages inside a hand-over window', () => {
  it('the same retained message asked for by two subscriptions reaches the session twice', async () => {
    const opts = { clientId: 'rw-sub', clean: false, properties: { sessionExpiryInterval: 600 } };
    const first = await h.connect('a', opts);
    await first.subscribeAsync('rw/other', { qos: 1 });
    await h.announced('a', 'rw/other');
    const pub = await h.connect('a', { clientId: 'rw-pub' });
    await pub.publishAsync('rw/x', 'kept', { qos: 1, retain: true });
    await until(async () => (await h.redis.hexists('iotwire:retained', 'rw/x')) === 1, 10_000, 'the retained message');
    await sleep(300); // the retained message travels to B's mirror on pub/sub
    const c = h.node('c');
    c.child.kill('SIGSTOP');
    try {
      const moved = await h.connectCollecting('b', opts);
      expect(moved.sessionPresent).toBe(true);
      // Two subscriptions whose filters both match the retained topic: one retained copy each.
      await moved.client.subscribeAsync('rw/x', { qos: 1 });
      await moved.client.subscribeAsync('rw/+', { qos: 1 });
      await until(() => moved.got.length >= 2, 10_000, 'two retained copies');
      expect(moved.got.map((m) => [m.topic, m.payload, m.retain])).toEqual([
        ['rw/x', 'kept', true],
        ['rw/x', 'kept', true],
      ]);
    } finally {
      c.child.kill('SIGCONT');
    }
  }, 60_000);
});
