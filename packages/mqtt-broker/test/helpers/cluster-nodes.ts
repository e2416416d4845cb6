// Broker processes of a cluster test (test/fixtures/cluster-node.mjs, the built package) on one
// Debian redis-server, and the MQTT.js helpers the cluster tests share. Everything waits on
// events or polls a condition with a generous deadline; nothing relies on a tight window.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisPeer, startRedis } from '@iotwire/interop';
import { Redis } from 'ioredis';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { expect } from 'vitest';

const fixture = fileURLToPath(new URL('../fixtures/cluster-node.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface ClusterNodeProcess {
  id: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

export class ClusterHarness {
  redisPeer!: RedisPeer;
  redis!: Redis;
  readonly nodes: ClusterNodeProcess[] = [];
  readonly clients: MqttClient[] = [];

  async start(ids: string[], sysInterval?: number, env: (id: string) => Record<string, string> = () => ({})): Promise<void> {
    this.redisPeer = await startRedis();
    this.redis = new Redis(this.redisPeer.url);
    await Promise.all(ids.map((id) => this.startNode(id, sysInterval, env(id))));
  }

  /** `env`: fault injection and timing for the fixture (see test/fixtures/cluster-node.mjs). */
  async startNode(id: string, sysInterval?: number, env: Record<string, string> = {}): Promise<ClusterNodeProcess> {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` first`);
    const p = await freePort('tcp');
    const args = [fixture, String(p), this.redisPeer.url, id];
    if (sysInterval !== undefined) args.push(String(sysInterval));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
    this.nodes.push(n);
    return n;
  }

  node(id: string): ClusterNodeProcess {
    return this.nodes.filter((n) => n.id === id).pop() as ClusterNodeProcess;
  }

  async kill(id: string): Promise<void> {
    const n = this.node(id);
    n.child.kill('SIGKILL');
    await n.exited;
  }

  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) c.end(true);
    for (const n of this.nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    await Promise.all(this.nodes.map((n) => n.exited));
    this.redis?.disconnect();
    await this.redisPeer?.stop();
  }

  async endClients(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.endAsync(true).catch(() => {});
  }

  async connect(id: string, opts: IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.node(id).port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...opts,
    });
    this.clients.push(c);
    return c;
  }

  /** Connects with a message collector attached first (a resumed session's messages may come with CONNACK). */
  async connectCollecting(
    id: string,
    opts: IClientOptions,
    got: Received[] = [],
  ): Promise<{ client: MqttClient; got: Received[]; sessionPresent: boolean }> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${this.node(id).port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...opts,
    });
    this.clients.push(client);
    collect(client, got);
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      client.once('connect', (p) => resolve(p));
      client.once('error', reject);
    });
    return { client, got, sessionPresent: connack.sessionPresent };
  }

  /** Subscriptions reach the other nodes through Redis: wait until node `id` announced `filter`. */
  async announced(id: string, filter: string): Promise<void> {
    await until(async () => (await this.redis.hexists(`iotwire:filters:${id}`, filter)) === 1);
    await sleep(150); // the announcement travels on pub/sub
  }

  /** Stream entries ever added for node `id` (XINFO entries-added; acks trim the stream itself). */
  async entriesAdded(id: string): Promise<number> {
    if ((await this.redis.exists(`iotwire:fwd:${id}`)) === 0) return 0;
    const info = (await this.redis.xinfo('STREAM', `iotwire:fwd:${id}`)) as (string | number)[];
    return Number(info[info.indexOf('entries-added') + 1]);
  }
}

export function collect(c: MqttClient, got: Received[] = []): Received[] {
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
  return got;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * The delivery guarantee checked after a churn: every acknowledged QoS 1/2 message reached the
 * subscriber and every QoS 2 one exactly once. Waits for all of them (up to `waitMs`), then
 * `settleMs` more for a late duplicate to show, then asserts (listing what is missing or doubled).
 */
export async function expectEveryAckedOnce(
  acked: readonly { payload: string; qos: 1 | 2 }[],
  got: readonly Received[],
  waitMs: number,
  settleMs: number,
): Promise<void> {
  const count = new Map<string, number>();
  const tally = () => {
    count.clear();
    for (const m of got) count.set(m.payload, (count.get(m.payload) ?? 0) + 1);
  };
  await until(
    () => {
      tally();
      return acked.every((a) => count.has(a.payload));
    },
    waitMs,
    'every acknowledged message',
  ).catch(() => {});
  await sleep(settleMs);
  tally();
  expect(acked.filter((a) => !count.has(a.payload)).map((a) => a.payload)).toEqual([]);
  expect(acked.filter((a) => a.qos === 2 && count.get(a.payload) !== 1).map((a) => a.payload)).toEqual([]);
}
