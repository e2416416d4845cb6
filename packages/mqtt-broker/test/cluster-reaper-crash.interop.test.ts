// A reaper that dies after adopting a dead node's sessions and before re-delivering its stream.
// N holds a parked persistent session (QoS 1 and 2 subscriptions) and is frozen while messages
// are forwarded to it (acknowledged to the publisher, in its stream, not consumed); N is then
// killed. R1 reaps it and is SIGKILLed right after adopting the session and announcing its
// filters (IOTWIRE_CLUSTER_CRASH_AT=reap-adopted); R2 is frozen meanwhile, so R1 is the one.
// R2 then reaps R1 and must finish R1's reaping of N: the session, now R2's, gets every message
// that sat in N's stream — none lost, QoS 2 once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHarness, until } from './helpers/cluster-nodes.js';

const h = new ClusterHarness();
beforeAll(
  () =>
    h.start(
      ['n', 'r1', 'r2'],
      undefined,
      (id): Record<string, string> =>
        id === 'r1' ? { IOTWIRE_CLUSTER_CRASH_AT: 'reap-adopted' } : { IOTWIRE_TEST_NODE_TIMEOUT: id === 'r2' ? '10000' : '4000' },
    ),
  60_000,
);
afterAll(() => h.stop(), 30_000);

describe('a reaper killed between adopting and re-delivering', () => {
  it('the next reaper finishes its reaping: the adopted session gets the dead node’s stream', async () => {
    const opts = { clientId: 'orphan', clean: false, properties: { sessionExpiryInterval: 600 } };
    const parked = await h.connect('n', opts);
    await parked.subscribeAsync('rc/1', { qos: 1 });
    await parked.subscribeAsync('rc/2', { qos: 2 });
    await h.announced('n', 'rc/2');
    await parked.endAsync();
    const n = h.node('n');
    const r1 = h.node('r1');
    const r2 = h.node('r2');
    n.child.kill('SIGSTOP');
    const pub = await h.connect('r2', { clientId: 'rc-pub' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => pub.publishAsync(`rc/${(i % 2) + 1}`, `m${i}`, { qos: ((i % 2) + 1) as 1 | 2 })),
    );
    const ack = (await h.redis.get('iotwire:fwdack:n')) ?? '0-0';
    expect((await h.redis.xrange('iotwire:fwd:n', `(${ack}`, '+')).length).toBeGreaterThan(0);
    r2.child.kill('SIGSTOP');
    try {
      n.child.kill('SIGKILL');
      await n.exited;
      await r1.exited; // it reaped N up to the crash point
      expect(await h.redis.get('iotwire:owner:orphan')).toBe('r1');
    } finally {
      r2.child.kill('SIGCONT');
    }
    await until(
      async () => (await h.redis.sismember('iotwire:nodes', 'n')) + (await h.redis.sismember('iotwire:nodes', 'r1')) === 0,
      30_000,
      'N and R1 reaped',
    );
    const back = await h.connectCollecting('r2', opts);
    expect(back.sessionPresent).toBe(true);
    await until(() => new Set(back.got.map((m) => m.payload)).size >= 20, 20_000, 'the messages of N’s stream');
    await new Promise((r) => setTimeout(r, 500));
    const q2 = back.got.filter((m) => m.qos === 2).map((m) => m.payload);
    expect(q2.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i * 2 + 1}`).sort());
    expect(back.got.filter((m) => m.qos === 1).length).toBeGreaterThanOrEqual(10);
  }, 60_000);
});
