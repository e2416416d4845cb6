// Two `iotwire-broker` processes configured with the same `cluster.redis` (Debian redis-server)
// form one broker: what is published on one node reaches a subscriber on the other, retained
// messages are shared, and a client id taken over on the other node ends the first session.
// (The cluster itself is tested in depth in @iotwire/mqtt-broker; this proves the wiring.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RedisPeer, startRedis } from '@iotwire/interop';
import { afterAll, describe, expect, it } from 'vitest';
import { runPeer, spawnPeer, startBin } from './helpers/bin.js';

let redis: RedisPeer | undefined;
afterAll(async () => {
  await redis?.stop();
});

async function node(name: string, redisUrl: string): Promise<{ tcp: number; bin: ReturnType<typeof startBin> }> {
  const tcp = await freePort('tcp');
  const http = await freePort('tcp');
  const dir = mkdtempSync(join(tmpdir(), `iotwire-cluster-${name}-`));
  const file = join(dir, 'broker.yaml');
  writeFileSync(
    file,
    `listeners: [{ protocol: tcp, host: 127.0.0.1, port: ${tcp} }]
cluster: { redis: "${redisUrl}", nodeId: ${name} }
sys: { interval: 1 }
dashboard: { port: ${http} }
metrics: { labels: { node: ${name} } }
logging: { format: json }
`,
  );
  const bin = startBin(['-c', file]);
  await bin.waitLog(/^started$/, 30_000);
  return { tcp, bin };
}

describe('cluster configuration', () => {
  it('two processes on one Redis are one broker', { timeout: 90_000 }, async () => {
    redis = await startRedis();
    const a = await node('node-a', redis.url);
    const b = await node('node-b', redis.url);
    expect(a.bin.logs.find((l) => l.msg.startsWith('storage:'))?.msg).toBe(`storage: in Redis, shared by the cluster (${redis.url})`);

    const sub = spawnPeer('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(a.tcp),
      '-V',
      'mqttv5',
      '-i',
      'sub-on-a',
      '-q',
      '1',
      '-t',
      'fleet/#',
      '-v',
    ]);
    await a.bin.waitLog(/sub-on-a connected/);
    // Subscriptions reach the other node asynchronously: publish until the first arrives.
    const deadline = Date.now() + 20_000;
    while (!sub.lines.some((l) => l.startsWith('fleet/1 '))) {
      expect(Date.now(), `no cross-node delivery; a:\n${a.bin.stdout()}\nb:\n${b.bin.stdout()}`).toBeLessThan(deadline);
      runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(b.tcp), '-t', 'fleet/1', '-m', 'from b', '-q', '1']);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sub.lines).toContain('fleet/1 from b');

    // Retained on b, read on a.
    expect(
      runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(b.tcp), '-t', 'fleet/config', '-m', 'v2', '-r', '-q', '1']).status,
    ).toBe(0);
    const got = runPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(a.tcp), '-t', 'fleet/config', '-v', '-C', '1', '-W', '10']);
    expect(got.out.trim()).toBe('fleet/config v2');

    // Take-over across nodes: the same client id on b ends the connection on a.
    const ended =
      sub.child.exitCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => a.bin.waitLog(/disconnected \(sub-on-a\)/).then(() => r()));
    const again = spawnPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(b.tcp), '-V', 'mqttv5', '-i', 'sub-on-a', '-t', 'x', '-v']);
    await ended;
    again.child.kill();
    sub.child.kill();

    // $SYS is per node (the subscriber sees the node it is connected to), with the cluster's figures beside it.
    const sysA = spawnPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(a.tcp), '-t', '$SYS/broker/cluster/#', '-v']);
    await sysA.waitLine(/^\$SYS\/broker\/cluster\/node node-a$/);
    await sysA.waitLine(/^\$SYS\/broker\/cluster\/nodes 2$/);
    sysA.child.kill();
    const sysB = spawnPeer('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(b.tcp),
      '-t',
      '$SYS/broker/cluster/node',
      '-t',
      '$SYS/broker/uptime',
      '-v',
    ]);
    await sysB.waitLine(/^\$SYS\/broker\/cluster\/node node-b$/);
    await sysB.waitLine(/^\$SYS\/broker\/uptime \d+ seconds$/);
    sysB.child.kill();

    // Each node's metrics carry its label.
    const m = await (await fetch(String(b.bin.logs.find((l) => l.msg.startsWith('metrics at'))?.url))).text();
    expect(m).toContain('iotwire_mqtt_uptime_seconds{node="node-b"}');

    a.bin.child.kill('SIGTERM');
    b.bin.child.kill('SIGTERM');
    expect(await a.bin.exited).toBe(0);
    expect(await b.bin.exited).toBe(0);
  });
});
