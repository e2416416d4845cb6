// Scale-out on Redis: three broker processes (test/fixtures/cluster-node.mjs, the built
// package) on one Debian redis-server form one broker; MQTT.js clients are spread across them.
// Checked: delivery across nodes at QoS 0/1/2 (QoS 2 exactly once), forwarding only to nodes
// with matching filters, retained messages and shared subscriptions cluster-wide, take-over of
// a client id across nodes with its session, and a node SIGKILLed mid-run: its clients' Wills
// published once by another node, its clients reconnecting elsewhere with their sessions.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisPeer, startRedis } from '@iotwire/interop';
import { Redis } from 'ioredis';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/cluster-node.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Node {
  id: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

let redisPeer: RedisPeer;
let redis: Redis;
const nodes: Node[] = [];

async function startNode(id: string, port?: number): Promise<Node> {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` first`);
  const p = port ?? (await freePort('tcp'));
  const child = spawn(process.execPath, [fixture, String(p), redisPeer.url, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.stderr?.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`node ${id} exited (${code}): ${out}`)));
  });
  const n = { id, port: p, child, exited };
  nodes.push(n);
  return n;
}

beforeAll(async () => {
  redisPeer = await startRedis();
  redis = new Redis(redisPeer.url);
  await Promise.all(['a', 'b', 'c'].map((id) => startNode(id)));
}, 60_000);

afterAll(async () => {
  for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
  redis?.disconnect();
  await redisPeer?.stop();
});

const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});

const node = (id: string) => nodes.filter((n) => n.id === id).pop() as Node;
async function connect(id: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${node(id).port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
  clients.push(c);
  return c;
}
/** Connects with a message collector attached first (a resumed session's messages may come with CONNACK). */
async function connectCollecting(
  id: string,
  opts: IClientOptions,
): Promise<{ client: MqttClient; got: ReturnType<typeof collect>; sessionPresent: boolean }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${node(id).port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
  clients.push(client);
  const got = collect(client);
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    client.once('connect', (p) => resolve(p));
    client.once('error', reject);
  });
  return { client, got, sessionPresent: connack.sessionPresent };
}
function collect(c: MqttClient): { topic: string; payload: string; qos: number; retain: boolean }[] {
  const got: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
  return got;
}
async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
/** Subscriptions reach the other nodes through Redis: wait until node `id` announced `filter`. */
async function announced(id: string, filter: string): Promise<void> {
  await until(async () => (await redis.hexists(`iotwire:filters:${id}`, filter)) === 1);
  await new Promise((r) => setTimeout(r, 100)); // the announcement travels on pub/sub
}

describe('three broker processes on one Redis', () => {
  it('a second process with a node id that is running is refused with ERR_CLUSTER', async () => {
    const { MqttBroker } = await import('../src/index.js');
    const twin = new MqttBroker({ cluster: { redis: redisPeer.url, nodeId: 'a' } });
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
    const before = { b: await redis.xlen('iotwire:fwd:b'), c: await redis.xlen('iotwire:fwd:c') };
    const got = collect(sub);
    const pub = await connect('a', { clientId: 'only-pub' });
    for (let i = 0; i < 10; i++) await pub.publishAsync('only/b', String(i), { qos: 1 });
    for (let i = 0; i < 10; i++) await pub.publishAsync('nobody/listens', String(i), { qos: 1 });
    await until(() => got.length >= 10);
    expect(await redis.xlen('iotwire:fwd:b')).toBeGreaterThan(before.b);
    expect(await redis.xlen('iotwire:fwd:c')).toBe(before.c);
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
    await until(async () => (await redis.hexists('iotwire:retained', 'ret/x')) === 0);
    await new Promise((r) => setTimeout(r, 200));
    const late = await connect('a', { clientId: 'ret-late' });
    const none = collect(late);
    await late.subscribeAsync('ret/#', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(none).toEqual([]);
  });

  it('shared subscriptions are cluster-wide: one delivery per group, spread over members on all nodes', async () => {
    const members = await Promise.all(['a', 'b', 'c'].map((id) => connect(id, { clientId: `share-${id}` })));
    const got = members.map(collect);
    for (const m of members) await m.subscribeAsync('$share/g/work/#', { qos: 1 });
    for (const id of ['a', 'b', 'c']) await announced(id, '$share/g/work/#');
    const pub = await connect('b', { clientId: 'share-pub' });
    for (let i = 0; i < 60; i++) await pub.publishAsync('work/item', String(i), { qos: 1 });
    await until(() => got.reduce((n, g) => n + g.length, 0) >= 60);
    await new Promise((r) => setTimeout(r, 300));
    const all = got.flat().map((m) => m.payload);
    expect(all.sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
    for (const g of got) expect(g.length).toBeGreaterThan(5);
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

  it('a node killed mid-run: its clients’ Wills are published once by another node; its clients reconnect elsewhere with their sessions', async () => {
    const watcher = await connect('a', { clientId: 'will-watcher' });
    const wills = collect(watcher);
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    await announced('a', 'wills/#');
    const opts = (id: string): IClientOptions => ({
      clientId: id,
      clean: false,
      properties: { sessionExpiryInterval: 600 },
      will: { topic: `wills/${id}`, payload: Buffer.from(`${id} died`), qos: 1, retain: false },
    });
    const onC = await Promise.all([connect('c', opts('victim-1')), connect('c', opts('victim-2'))]);
    await onC[0]?.subscribeAsync('victim/#', { qos: 1 });
    await announced('c', 'victim/#');
    // Traffic from B while C runs, and on after C is gone.
    const pub = await connect('b', { clientId: 'victim-pub' });
    await pub.publishAsync('victim/before', 'b0', { qos: 1 });
    const c = node('c');
    c.child.kill('SIGKILL');
    await c.exited;
    for (const x of onC) x.end(true);
    await until(() => wills.length >= 2, 20_000);
    // The adopting node announces the adopted session's filter.
    await until(
      async () => (await redis.hexists('iotwire:filters:a', 'victim/#')) + (await redis.hexists('iotwire:filters:b', 'victim/#')) === 1,
    );
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) await pub.publishAsync('victim/after', `a${i}`, { qos: 1 });
    // The victim reconnects to A: the session (adopted by a live node) comes along with what was queued.
    const back = await connectCollecting('a', { ...opts('victim-1'), will: undefined });
    const got = back.got;
    expect(back.sessionPresent).toBe(true);
    await until(() => got.filter((m) => m.topic === 'victim/after').length >= 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(wills.map((m) => m.payload).sort()).toEqual(['victim-1 died', 'victim-2 died']);
    expect(got.filter((m) => m.topic === 'victim/after').map((m) => m.payload)).toEqual(['a0', 'a1', 'a2']);
    // The dead node is gone from the cluster; its client ids are free or adopted.
    expect(await redis.sismember('iotwire:nodes', 'c')).toBe(0);
    expect(await redis.get('iotwire:owner:victim-2')).not.toBe('c');
    // C restarts with the same id and joins again.
    await startNode('c');
    const again = await connect('c', { clientId: 'c-again' });
    await again.subscribeAsync('again/x', { qos: 1 });
    await announced('c', 'again/x');
    const g2 = collect(again);
    await pub.publishAsync('again/x', 'hello', { qos: 1 });
    await until(() => g2.length >= 1);
  }, 60_000);
});
