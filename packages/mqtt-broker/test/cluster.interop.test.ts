// Scale-out on Redis, the CI cluster test: three broker processes (test/fixtures/cluster-node.mjs,
// the built package) on one Debian redis-server form one broker; MQTT.js clients are spread
// across them. Checked: delivery across nodes at QoS 0/1/2 (QoS 2 exactly once), forwarding
// only to nodes with matching filters (stream entries counted per node), retained messages and
// shared subscriptions cluster-wide (one copy per group), take-over of a client id across nodes
// with its session (0x8E on the old node), `$SYS` per node plus cluster figures, and a node
// stopped then SIGKILLed mid-run: messages already in its stream reach its adopted sessions,
// its clients' Wills are published once (a Will Delay counted from its death, a Will whose
// client came back elsewhere not at all), its clients find their sessions on other nodes.
import type { IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHarness, collect, sleep, until } from './helpers/cluster-nodes.js';

const h = new ClusterHarness();
beforeAll(() => h.start(['a', 'b', 'c'], 1), 60_000);
afterAll(() => h.stop(), 30_000);
afterEach(() => h.endClients());

const connect = h.connect.bind(h);
const connectCollecting = h.connectCollecting.bind(h);
const announced = h.announced.bind(h);

describe('three broker processes on one Redis', () => {
  it('a second process with a node id that is running is refused with ERR_CLUSTER', async () => {
    const { MqttBroker } = await import('../src/index.js');
    const twin = new MqttBroker({ cluster: { redis: h.redisPeer.url, nodeId: 'a' } });
    twin.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: 0 });
    await expect(twin.startListening()).rejects.toMatchObject({ code: 'ERR_CLUSTER', message: expect.stringContaining('in use') });
    await twin.close();
  });

  it('a message published on one node reaches subscribers on the others, QoS kept; QoS 2 exactly once', async () => {
    const subB = await connect('b', { clientId: 'x-sub-b' });
    const subC = await connect('c', { clientId: 'x-sub-c' });
    const gotB = collect(subB);
    const gotC = collect(subC);
    await subB.subscribeAsync('x/#', { qos: 2 });
    await subC.subscribeAsync('x/+/q', { qos: 1 });
    await announced('b', 'x/#');
    await announced('c', 'x/+/q');
    const pub = await connect('a', { clientId: 'x-pub' });
    for (let i = 0; i < 20; i++) for (const qos of [0, 1, 2] as const) await pub.publishAsync(`x/${qos}/q`, `${qos}:${i}`, { qos });
    await until(() => gotB.length >= 60 && gotC.length >= 60);
    await new Promise((r) => setTimeout(r, 300));
    expect(gotB).toHaveLength(60);
    expect(gotC.filter((m) => m.qos === 2)).toHaveLength(0);
    for (const qos of [0, 1, 2]) {
      expect(gotB.filter((m) => m.topic === `x/${qos}/q`).map((m) => m.payload)).toEqual(
        Array.from({ length: 20 }, (_, i) => `${qos}:${i}`),
      );
      expect(gotB.filter((m) => m.topic === `x/${qos}/q`).every((m) => m.qos === qos)).toBe(true);
      expect(gotC.filter((m) => m.topic === `x/${qos}/q`).every((m) => m.qos === Math.min(qos, 1))).toBe(true);
    }
  });

  it('forwards only to nodes whose filters match (no broadcast of all traffic)', async () => {
    const sub = await connect('b', { clientId: 'only-b' });
    await sub.subscribeAsync('only/b', { qos: 1 });
    await announced('b', 'only/b');
    const entries = async () => ({ a: await h.entriesAdded('a'), b: await h.entriesAdded('b'), c: await h.entriesAdded('c') });
    const before = await entries();
    const got = collect(sub);
    const pub = await connect('a', { clientId: 'only-pub' });
    for (let i = 0; i < 10; i++) await pub.publishAsync('only/b', String(i), { qos: 1 });
    for (let i = 0; i < 10; i++) await pub.publishAsync('nobody/listens', String(i), { qos: 1 });
    const pubC = await connect('c', { clientId: 'only-pub-c' });
    for (let i = 0; i < 10; i++) await pubC.publishAsync('nobody/listens', String(i), { qos: 0 });
    await pubC.publishAsync('nobody/listens', 'last', { qos: 1 });
    await until(() => got.length >= 10);
    const after = await entries();
    // Ten QoS 1 publishes acknowledged one by one: at least one stream entry each for B, none for A or C.
    expect(after.b - before.b).toBeGreaterThanOrEqual(10);
    expect(after.a).toBe(before.a);
    expect(after.c).toBe(before.c);
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });

  it('retained messages are cluster-wide: set on one node, served on another, deleted from a third', async () => {
    const a = await connect('a', { clientId: 'ret-a' });
    await a.publishAsync('ret/x', 'kept', { qos: 1, retain: true });
    const c = await connect('c', { clientId: 'ret-c' });
    const got = collect(c);
    await until(async () => {
      await c.subscribeAsync('ret/#', { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
      await c.unsubscribeAsync('ret/#');
      return got.length > 0;
    });
    expect(got[0]).toMatchObject({ topic: 'ret/x', payload: 'kept', retain: true });
    const b = await connect('b', { clientId: 'ret-b' });
    await b.publishAsync('ret/x', '', { qos: 1, retain: true });
    await until(async () => (await h.redis.hexists('iotwire:retained', 'ret/x')) === 0);
    await new Promise((r) => setTimeout(r, 200));
    const late = await connect('a', { clientId: 'ret-late' });
    const none = collect(late);
    await late.subscribeAsync('ret/#', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(none).toEqual([]);
  });

  it('shared subscriptions are cluster-wide: one delivery per group, spread over members on all nodes', async () => {
    const members = await Promise.all(['a', 'b', 'c'].map((id) => connect(id, { clientId: `share-${id}` })));
    const got = members.map((m) => collect(m));
    for (const m of members) await m.subscribeAsync('$share/g/work/#', { qos: 1 });
    // A second group with members on two nodes gets its own copy of every message.
    const others = await Promise.all(['a', 'c'].map((id) => connect(id, { clientId: `share2-${id}` })));
    const got2 = others.map((m) => collect(m));
    for (const m of others) await m.subscribeAsync('$share/h/work/+', { qos: 1 });
    for (const id of ['a', 'b', 'c']) await announced(id, '$share/g/work/#');
    for (const id of ['a', 'c']) await announced(id, '$share/h/work/+');
    const pub = await connect('b', { clientId: 'share-pub' });
    for (let i = 0; i < 60; i++) await pub.publishAsync('work/item', String(i), { qos: 1 });
    await until(() => got.reduce((n, g) => n + g.length, 0) >= 60 && got2.reduce((n, g) => n + g.length, 0) >= 60);
    await sleep(300);
    const sorted = (g: { payload: string }[][]) =>
      g
        .flat()
        .map((m) => m.payload)
        .sort((x, y) => Number(x) - Number(y));
    const all = Array.from({ length: 60 }, (_, i) => String(i));
    expect(sorted(got)).toEqual(all);
    expect(sorted(got2)).toEqual(all);
    for (const g of got) expect(g.length).toBeGreaterThan(5);
    for (const g of got2) expect(g.length).toBeGreaterThan(5);
  });

  it('take-over across nodes: the client id moves from A to B with its session; A closes the old connection (0x8E)', async () => {
    const first = await connect('a', { clientId: 'mover', clean: false, properties: { sessionExpiryInterval: 600 } });
    await first.subscribeAsync('mover/#', { qos: 1 });
    await announced('a', 'mover/#');
    const reason = new Promise<number | undefined>((resolve) => first.on('disconnect', (p) => resolve(p.reasonCode)));
    // Messages while it is connected on A, then it shows up on B: A lets go of it.
    const pub = await connect('c', { clientId: 'mover-pub' });
    const moved = await connectCollecting('b', { clientId: 'mover', clean: false, properties: { sessionExpiryInterval: 600 } });
    const second = moved.client;
    expect(await reason).toBe(0x8e);
    expect(moved.sessionPresent).toBe(true);
    await announced('b', 'mover/#');
    const got = moved.got;
    await pub.publishAsync('mover/1', 'after', { qos: 1 });
    await until(() => got.length >= 1);
    expect(got[0]?.payload).toBe('after');
    // Offline: messages queue in its session (owned by B); it comes back on C and gets them.
    await second.endAsync();
    for (let i = 0; i < 5; i++) await pub.publishAsync('mover/q', `queued-${i}`, { qos: 1 });
    const third = await connectCollecting('c', { clientId: 'mover', clean: false, properties: { sessionExpiryInterval: 600 } });
    expect(third.sessionPresent).toBe(true);
    const queued = third.got;
    await until(() => queued.length >= 5);
    expect(queued.map((m) => m.payload)).toEqual(['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4']);
  });

  it('$SYS is per node (never forwarded, not shared as retained) with cluster-wide figures beside it', async () => {
    const onB = await connect('b', { clientId: 'sys-b' });
    const got = collect(onB);
    await onB.subscribeAsync('$SYS/broker/cluster/#', { qos: 0 });
    await onB.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    const last = (t: string) => got.filter((m) => m.topic === `$SYS/broker/cluster/${t}`).pop()?.payload;
    await until(() => last('nodes') === '3' && Number(last('clients/connected')) >= 1 && got.some((m) => m.topic.endsWith('uptime')));
    // Only B's own tree reaches a client of B, once per value.
    await sleep(1500);
    expect(got.filter((m) => m.topic === '$SYS/broker/cluster/node').map((m) => m.payload)).toEqual(['b']);
    expect(new Set(got.filter((m) => m.topic.endsWith('uptime')).map((m) => m.payload)).size).toBe(
      got.filter((m) => m.topic.endsWith('uptime')).length,
    );
    expect((await h.redis.hkeys('iotwire:retained')).filter((k) => k.startsWith('$'))).toEqual([]);
    // Figures sum every node's clients: connect one more on C and B sees it.
    const before = Number(last('clients/connected'));
    await connect('c', { clientId: 'sys-extra' });
    await until(() => Number(last('clients/connected')) === before + 1);
  });

  it('a node stopped then killed mid-run: its stream reaches its adopted sessions, its Wills are published once (delays honoured), its clients move on', async () => {
    const watcher = await connect('a', { clientId: 'will-watcher' });
    const wills: { payload: string; at: number }[] = [];
    watcher.on('message', (_t, p) => wills.push({ payload: p.toString(), at: Date.now() }));
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    await announced('a', 'wills/#');
    const opts = (id: string, willDelayInterval = 0): IClientOptions => ({
      clientId: id,
      clean: false,
      properties: { sessionExpiryInterval: 600 },
      will: { topic: `wills/${id}`, payload: Buffer.from(`${id} died`), qos: 1, retain: false, properties: { willDelayInterval } },
    });
    const onC = await Promise.all([
      connect('c', opts('victim-1')),
      connect('c', opts('victim-2')),
      connect('c', opts('victim-delay', 2)),
      connect('c', opts('victim-back', 5)),
    ]);
    await onC[0]?.subscribeAsync('victim/#', { qos: 1 });
    await announced('c', 'victim/#');
    // A persistent session parked on C (offline) with QoS 1 and 2 subscriptions.
    const parked = await connect('c', { clientId: 'parked', clean: false, properties: { sessionExpiryInterval: 600 } });
    await parked.subscribeAsync('parked/1', { qos: 1 });
    await parked.subscribeAsync('parked/2', { qos: 2 });
    await announced('c', 'parked/2');
    await parked.endAsync();
    // Traffic from B while C runs, and on after C is gone.
    const pub = await connect('b', { clientId: 'victim-pub' });
    await pub.publishAsync('victim/before', 'b0', { qos: 1 });
    // C freezes: what B forwards to it stays in its stream, acknowledged to the publisher, not consumed.
    const c = h.node('c');
    c.child.kill('SIGSTOP');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => pub.publishAsync(`parked/${(i % 2) + 1}`, `p${i}`, { qos: ((i % 2) + 1) as 1 | 2 })),
    );
    const ack = (await h.redis.get('iotwire:fwdack:c')) ?? '0-0';
    expect((await h.redis.xrange('iotwire:fwd:c', `(${ack}`, '+')).length).toBeGreaterThan(0);
    // Publishing goes on without pause through the kill and the reaping (no gap while C's
    // filters give way to the adopted session's on another node).
    const acked: string[] = [];
    let reaped = false;
    const steady = (async () => {
      const p2 = await connect('a', { clientId: 'steady-pub' });
      for (let i = 0; !reaped && i < 5000; i++) {
        await p2.publishAsync(`parked/${(i % 2) + 1}`, `s${i}`, { qos: ((i % 2) + 1) as 1 | 2 });
        acked.push(`s${i}`);
        await sleep(5);
      }
    })();
    c.child.kill('SIGKILL');
    await c.exited;
    await sleep(100);
    const death = Number(await h.redis.get('iotwire:beat:c'));
    expect(death).toBeGreaterThan(0);
    for (const x of onC) x.end(true);
    // victim-back is back (on A) within its Will Delay: its Will must never be published.
    const back2 = await connectCollecting('a', { ...opts('victim-back'), will: undefined });
    expect(back2.sessionPresent).toBe(true);
    await until(() => wills.length >= 3, 20_000, 'the Wills of victim-1, victim-2 and victim-delay');
    const willOf = (id: string) => wills.filter((w) => w.payload === `${id} died`);
    // The delayed Will: not before C's death plus its delay.
    expect(willOf('victim-delay')[0]?.at).toBeGreaterThanOrEqual(death + 1900);
    // The adopting node announces the adopted session's filter.
    await until(
      async () => (await h.redis.hexists('iotwire:filters:a', 'victim/#')) + (await h.redis.hexists('iotwire:filters:b', 'victim/#')) === 1,
    );
    await sleep(150);
    for (let i = 0; i < 3; i++) await pub.publishAsync('victim/after', `a${i}`, { qos: 1 });
    // The victim reconnects to A: the session (adopted by a live node) comes along with what was queued.
    const back = await connectCollecting('a', { ...opts('victim-1'), will: undefined });
    expect(back.sessionPresent).toBe(true);
    await until(() => back.got.filter((m) => m.topic === 'victim/after').length >= 3);
    expect(back.got.filter((m) => m.topic === 'victim/after').map((m) => m.payload)).toEqual(['a0', 'a1', 'a2']);
    // The parked session gets what sat in C's stream and what came after: every message, QoS 2 once.
    await until(async () => (await h.redis.sismember('iotwire:nodes', 'c')) === 0, 20_000, 'C reaped');
    await sleep(300);
    reaped = true;
    await steady;
    expect(acked.length).toBeGreaterThan(10);
    const parkedBack = await connectCollecting('b', { clientId: 'parked', clean: false, properties: { sessionExpiryInterval: 600 } });
    expect(parkedBack.sessionPresent).toBe(true);
    const want = [...Array.from({ length: 10 }, (_, i) => `p${i}`), ...acked];
    await until(() => want.every((w) => parkedBack.got.some((m) => m.payload === w)), 20_000, 'the parked messages');
    // Past victim-back's delay (5 s from C's death) with room to spare: still no Will for it.
    await until(() => Date.now() > death + 6000, 20_000);
    const twice = parkedBack.got.filter((m, i) => m.qos === 2 && parkedBack.got.findIndex((x) => x.payload === m.payload) !== i);
    expect(twice).toEqual([]);
    expect(
      parkedBack.got
        .filter((m) => m.qos === 2 && m.payload.startsWith('p'))
        .map((m) => m.payload)
        .sort(),
    ).toEqual(['p1', 'p3', 'p5', 'p7', 'p9']);
    expect(wills.map((w) => w.payload).sort()).toEqual(['victim-1 died', 'victim-2 died', 'victim-delay died']);
    // The dead node is gone from the cluster; its client ids are free or adopted.
    expect(await h.redis.sismember('iotwire:nodes', 'c')).toBe(0);
    expect(await h.redis.get('iotwire:owner:victim-2')).not.toBe('c');
    expect(await h.redis.exists('iotwire:fwd:c')).toBe(0);
    // C restarts with the same id and joins again.
    await h.startNode('c', 1);
    const again = await connect('c', { clientId: 'c-again' });
    await again.subscribeAsync('again/x', { qos: 1 });
    await announced('c', 'again/x');
    const g2 = collect(again);
    await pub.publishAsync('again/x', 'hello', { qos: 1 });
    await until(() => g2.length >= 1);
  }, 60_000);
});
