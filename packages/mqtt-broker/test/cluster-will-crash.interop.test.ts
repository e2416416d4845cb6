// A Will published through an asynchronous publish hook leaves the cluster's schedule only in
// the transaction that carries its publication. Node W (an authorizePublish hook that takes
// 300 ms for Wills) is SIGKILLed right after it committed the Will's lease acknowledgement
// (IOTWIRE_CLUSTER_CRASH_AT=will-flushed); node V is frozen meanwhile so W is the one that
// publishes. The Will must reach V's subscriber once: not lost, not doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHarness, collect, sleep, until } from './helpers/cluster-nodes.js';

const h = new ClusterHarness();
const timing = { IOTWIRE_TEST_NODE_TIMEOUT: '6000' };
beforeAll(
  () =>
    h.start(['v', 'w'], undefined, (id) =>
      id === 'w' ? { ...timing, IOTWIRE_CLUSTER_CRASH_AT: 'will-flushed', IOTWIRE_TEST_WILL_HOOK_DELAY: '300' } : timing,
    ),
  60_000,
);
afterAll(() => h.stop(), 30_000);

describe('a Will through an asynchronous hook, its node killed as it commits', () => {
  it('is published once, by the surviving node or with the commit that cleared it', async () => {
    const watcher = await h.connect('v', { clientId: 'will-watcher' });
    const got = collect(watcher);
    await watcher.subscribeAsync('wc/#', { qos: 1 });
    await h.announced('v', 'wc/#');
    const v = h.node('v');
    const w = h.node('w');
    v.child.kill('SIGSTOP');
    try {
      // A client of W with a delayed Will drops its connection: W schedules the Will, leases it
      // when due, runs the hook, and is killed at the crash point.
      const client = await h.connect('w', {
        clientId: 'wc-client',
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        will: { topic: 'wc/gone', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
      });
      (client as unknown as { stream: { destroy(): void } }).stream.destroy();
      await w.exited;
    } finally {
      v.child.kill('SIGCONT');
    }
    // V reaps W (after nodeTimeout) and publishes whatever is still scheduled.
    await until(async () => (await h.redis.sismember('iotwire:nodes', 'w')) === 0, 30_000, 'W reaped');
    await until(() => got.length > 0, 10_000, 'the Will');
    await sleep(1000); // several heartbeats: no second publication
    expect(got.map((m) => [m.topic, m.payload])).toEqual([['wc/gone', 'gone']]);
    expect(await h.redis.zcard('iotwire:willdue')).toBe(0);
  }, 60_000);
});
