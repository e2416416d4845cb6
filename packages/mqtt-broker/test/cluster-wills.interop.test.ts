// Wills of dead nodes, on Debian's redis-server with an in-process cluster node: the state a
// crashed node or a crashed reaper leaves in Redis is written directly, and the live node must
// publish each Will once, when due (Will Delay from the node's death), never while another live
// node holds its lease, and not at all when its client came back in time.
import { freePort, type RedisPeer, startRedis } from '@iotwire/interop';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../src/cluster/codec.js';
import { MqttBroker } from '../src/index.js';
import { BrokerMessage } from '../src/message.js';
import { sleep, until } from './helpers/cluster-nodes.js';

let peer: RedisPeer;
let redis: Redis;
let broker: MqttBroker;
let port: number;
let watcher: MqttClient;
const got: { topic: string; payload: string; at: number }[] = [];

const will = (topic: string, payload: string) =>
  encodeMessage(new BrokerMessage(0, topic, Buffer.from(payload), 1, false, undefined, 0, 'x'), false, [], '');

beforeAll(async () => {
  peer = await startRedis();
  redis = new Redis(peer.url);
  port = await freePort('tcp');
  broker = new MqttBroker({ cluster: { redis: peer.url, nodeId: 'live', heartbeatInterval: 100, nodeTimeout: 1000 } });
  broker.on('error', () => {});
  broker.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port });
  await broker.startListening();
  watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'watcher' });
  watcher.on('message', (topic, p) => got.push({ topic, payload: p.toString(), at: Date.now() }));
  await watcher.subscribeAsync('w/#', { qos: 1 });
}, 30_000);

afterAll(async () => {
  await watcher?.endAsync(true);
  await broker?.close();
  redis?.disconnect();
  await peer?.stop();
});

const of = (payload: string) => got.filter((m) => m.payload === payload);

describe('Wills of a dead node', () => {
  it('a due Will leased to a run that died (its reaper crashed mid-publish) is published by another node, once', async () => {
    await redis
      .multi()
      .hset('iotwire:willmsg', 'orphan', will('w/orphan', 'orphan'))
      .hset('iotwire:willlease', 'orphan', 'crashed-node deadrun')
      .zadd('iotwire:willdue', Date.now() - 10, 'orphan')
      .exec();
    await until(() => of('orphan').length > 0, 10_000, 'the orphaned Will');
    await sleep(500); // several heartbeats: no second publication
    expect(of('orphan')).toHaveLength(1);
    expect(await redis.zscore('iotwire:willdue', 'orphan')).toBeNull();
    expect(await redis.hexists('iotwire:willmsg', 'orphan')).toBe(0);
    expect(await redis.hexists('iotwire:willlease', 'orphan')).toBe(0);
  });

  it('a Will leased to a live node run is left to it; published once that run is gone', async () => {
    await redis.set('iotwire:alive:busy', 'run1', 'PX', 60_000);
    await redis
      .multi()
      .hset('iotwire:willmsg', 'leased', will('w/leased', 'leased'))
      .hset('iotwire:willlease', 'leased', 'busy run1')
      .zadd('iotwire:willdue', Date.now() - 10, 'leased')
      .exec();
    await sleep(800);
    expect(of('leased')).toHaveLength(0);
    await redis.del('iotwire:alive:busy');
    await until(() => of('leased').length > 0, 10_000, 'the released Will');
    await sleep(500);
    expect(of('leased')).toHaveLength(1);
  });

  it('a dead node’s registered Wills: published at its death plus their delay, once; not at all if the client came back in time', async () => {
    const death = Date.now();
    await redis
      .multi()
      .sadd('iotwire:nodes', 'dead')
      .set('iotwire:beat:dead', String(death))
      .hset('iotwire:wills:dead', 'now', Buffer.concat([Buffer.from('0\n'), will('w/now', 'now')]))
      .hset('iotwire:wills:dead', 'later', Buffer.concat([Buffer.from('2\n'), will('w/later', 'later')]))
      .hset('iotwire:wills:dead', 'back', Buffer.concat([Buffer.from('3\n'), will('w/back', 'back')]))
      .set('iotwire:owner:back', 'dead')
      .sadd('iotwire:clients:dead', 'back')
      .exec();
    await until(() => of('now').length > 0, 10_000, 'the undelayed Will');
    // `back` reconnects (resuming its session) before its 3 s: its Will is dropped.
    const back = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'back',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    await until(() => of('later').length > 0, 10_000, 'the delayed Will');
    expect(of('later')[0]?.at).toBeGreaterThanOrEqual(death + 2000);
    await until(() => Date.now() > death + 4000, 10_000);
    await sleep(300);
    expect(of('now')).toHaveLength(1);
    expect(of('later')).toHaveLength(1);
    expect(of('back')).toHaveLength(0);
    expect(await redis.sismember('iotwire:nodes', 'dead')).toBe(0);
    expect(await redis.exists('iotwire:wills:dead')).toBe(0);
    await back.endAsync(true);
  });

  it('a Will with a delay on a live node is scheduled in Redis: another connection of the client cancels it, a clean start publishes it', async () => {
    const opts = (id: string, clean: boolean) => ({
      protocolVersion: 5 as const,
      reconnectPeriod: 0,
      clientId: id,
      clean,
      properties: { sessionExpiryInterval: 60 },
      will: { topic: `w/${id}`, payload: Buffer.from(id), qos: 1 as const, retain: false, properties: { willDelayInterval: 30 } },
    });
    const a = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, opts('delayed-a', false));
    const b = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, opts('delayed-b', false));
    (a as unknown as { stream: { destroy(): void } }).stream.destroy();
    (b as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(async () => (await redis.zcard('iotwire:willdue')) === 2, 10_000, 'the scheduled Wills');
    const a2 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...opts('delayed-a', false), will: undefined });
    const b2 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...opts('delayed-b', true), will: undefined });
    await until(() => of('delayed-b').length > 0, 10_000, 'the Will of the clean start');
    await sleep(500);
    expect(of('delayed-a')).toHaveLength(0);
    expect(of('delayed-b')).toHaveLength(1);
    expect(await redis.zcard('iotwire:willdue')).toBe(0);
    await a2.endAsync(true);
    await b2.endAsync(true);
  });
});
