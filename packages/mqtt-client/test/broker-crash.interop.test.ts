// kill -9 of @iotwire/mqtt-broker (a child process with its durable store) in the middle of
// QoS 2 flows, restarted on the same port and directory, several times: the application on
// our client sees every message exactly once. (Against Mosquitto, whose persistence is a
// snapshot, see mosquitto-crash.interop.test.ts: it is stopped with SIGTERM there.)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@iotwire/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttClient } from '../src/index.js';
import { until } from './helpers/fake-server.js';

const here = dirname(fileURLToPath(import.meta.url));
// The built broker package (dist/, from `pnpm build`), as a separate process.
const brokerDist = join(dirname(createRequire(import.meta.url).resolve('@iotwire/mqtt-broker/package.json')), 'dist', 'index.js');
const BROKER = `
import { createDurableStorage, MqttBroker } from ${JSON.stringify(brokerDist)};
const [port, directory] = process.argv.slice(1);
const broker = new MqttBroker({ storage: await createDurableStorage({ directory }), logLevel: 0 });
broker.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: Number(port) });
await broker.startListening();
process.stdout.write('ready\\n');
`;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function startBroker(port: number, dir: string): Promise<{ child: ChildProcess; kill(): Promise<void> }> {
  if (!existsSync(brokerDist)) throw new Error(`${brokerDist} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, ['--input-type=module', '-e', BROKER, String(port), dir], {
    cwd: here,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cleanup.push(kill);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve({ child, kill });
    });
    child.stderr?.on('data', (d) => (out += d));
    child.once('exit', (code, signal) => reject(new Error(`broker exited (${code ?? signal}): ${out}`)));
  });
}

describe.each([4, 5] as const)('MQTT %s: @iotwire/mqtt-broker killed (-9) mid-QoS 2', (version) => {
  it('no message lost or delivered twice to the application across three kills and restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-broker-crash-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort('tcp');
    let broker = await startBroker(port, dir);
    const url = `mqtt://127.0.0.1:${port}`;
    const common = {
      protocolVersion: version,
      clean: false,
      sessionExpiryInterval: 3600,
      reconnect: { minDelayMs: 50, maxDelayMs: 200 },
      keepAlive: 5,
    };
    const sub = new MqttClient({ url, clientId: `kill9-sub-${version}`, ...common });
    const pub = new MqttClient({ url, clientId: `kill9-pub-${version}`, ...common, queue: { maxMessages: 10_000 } });
    sub.on('error', () => {});
    pub.on('error', () => {});
    cleanup.push(() => sub.interrupt());
    cleanup.push(() => pub.interrupt());
    const received = new Map<string, number>();
    sub.on('messageIn', (m) => received.set(m.text, (received.get(m.text) ?? 0) + 1));
    await sub.connect();
    await sub.subscribe('kill9/#', { qos: 2 });
    await pub.connect();

    const total = 400;
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      done.push(pub.publish(`kill9/${i % 5}`, `m${i}`, { qos: 2 }));
      if (i % 100 === 50) {
        // Mid-flight: messages sit in every QoS 2 state on both sides when the broker dies.
        const want = Math.min(received.size + 10, i - 10);
        await until(() => received.size >= want, 20_000, 'deliveries before the kill');
        await broker.kill();
        broker = await startBroker(port, dir);
      }
    }
    await Promise.all(done);
    await until(() => received.size === total, 30_000, `all ${total} messages`).catch((err) => {
      const missing = Array.from({ length: total }, (_, i) => `m${i}`).filter((m) => !received.has(m));
      throw new Error(`${(err as Error).message}: missing ${missing.length} (${missing.slice(0, 8).join(' ')}…)`);
    });
    await new Promise((r) => setTimeout(r, 300)); // late duplicates would show up here
    expect([...received.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(received.size).toBe(total);
  }, 90_000);
});
