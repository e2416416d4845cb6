// A node that comes back under the same id before any other node reaped it goes on where its
// previous run stopped: its persistent sessions come back with it, and the messages forwarded to
// it while it was down (still in its stream, not committed) reach them — none lost, QoS 2 once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHarness, until } from './helpers/cluster-nodes.js';

const h = new ClusterHarness();
beforeAll(() => h.start(['solo', 'pub']), 60_000);
afterAll(() => h.stop(), 30_000);

describe('a node restarted with the same id', () => {
  it('takes back its sessions and consumes what was forwarded to it while it was down', async () => {
    const opts = { clientId: 'parked', clean: false, properties: { sessionExpiryInterval: 600 } };
    const parked = await h.connect('solo', opts);
    await parked.subscribeAsync('r/1', { qos: 1 });
    await parked.subscribeAsync('r/2', { qos: 2 });
    await h.announced('solo', 'r/2');
    await parked.endAsync();
    const solo = h.node('solo');
    solo.child.kill('SIGSTOP');
    const pub = await h.connect('pub', { clientId: 'r-pub' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => pub.publishAsync(`r/${(i % 2) + 1}`, `m${i}`, { qos: ((i % 2) + 1) as 1 | 2 })));
    const ack = (await h.redis.get('iotwire:fwdack:solo')) ?? '0-0';
    expect((await h.redis.xrange('iotwire:fwd:solo', `(${ack}`, '+')).length).toBeGreaterThan(0);
    // No node is left to reap `solo`: `pub` leaves the cluster, then `solo` dies.
    await pub.endAsync();
    const p = h.node('pub');
    p.child.kill('SIGTERM');
    await p.exited;
    solo.child.kill('SIGKILL');
    await solo.exited;
    await until(async () => (await h.redis.exists('iotwire:alive:solo')) === 0, 10_000, 'solo’s heartbeat to expire');
    await h.startNode('solo');
    const back = await h.connectCollecting('solo', opts);
    expect(back.sessionPresent).toBe(true);
    await until(() => new Set(back.got.map((m) => m.payload)).size >= 20, 20_000, 'the messages forwarded while it was down');
    const q2 = back.got.filter((m) => m.qos === 2).map((m) => m.payload);
    expect(q2.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i * 2 + 1}`).sort());
    // The restarted node reaped the departed `pub` and keeps only the filters its sessions need.
    await until(async () => (await h.redis.sismember('iotwire:nodes', 'pub')) === 0, 10_000, 'pub reaped');
    expect((await h.redis.hkeys('iotwire:filters:solo')).sort()).toEqual(['r/1', 'r/2']);
  }, 60_000);
});
