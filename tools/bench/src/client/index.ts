// Client suite: @iotwire/mqtt-client against MQTT.js (npm `mqtt`), side by side in one run,
// against the same Mosquitto on loopback, MQTT 3.1.1, 64-byte payloads.
// `pnpm bench client [--count=n] [--rounds=n] [--only=row,...]`.
//
// Peers (`--peer=mosquitto,raw`, default both):
//  - mosquitto: the rows the issue asks for. Mosquitto writes one packet per system call and
//    tops out near 230–320k packets/s per connection on this machine, so rows where both
//    clients reach that ceiling compare Mosquitto with itself; the CPU column still shows the
//    clients' cost.
//  - raw: the same rows against raw-peer.ts, a minimal MQTT peer in its own process that acks
//    and streams pre-encoded packets far faster than either client can consume them, so the
//    throughput ratio is the clients' own.
//
// Rows (each: `rounds` interleaved runs per client, default 5; median reported):
//  - publish-qos0: `count` QoS 0 publishes issued in batches of 1,000 (one tick each), then
//    one QoS 1 sentinel; done when the sentinel's PUBACK arrives (Mosquitto handles a
//    connection's packets in order, so every QoS 0 message was read by then).
//  - publish-qos1: min(`count`, 50,000) QoS 1 publishes issued the same way (below 65,535 so
//    neither client runs out of packet ids); done when all are acknowledged.
//  - receive-qos1 / receive-qos0: the client's persistent session is subscribed (QoS 1 / 0)
//    and offline while a raw-socket feeder publishes `count` messages, which Mosquitto queues
//    (`queue_qos0_messages true` for QoS 0); the client then connects and the clock runs until
//    it has received (and for QoS 1 acknowledged) them all. Mosquitto sends from its queue at
//    the same speed for both clients, so the difference is the client's receive path
//    (decode, ack, event).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startMosquitto } from '@iotwire/interop';
import { MqttClient } from '@iotwire/mqtt-client';
import { encode } from '@iotwire/mqtt-packet';
import mqtt from 'mqtt';
import { fmt, markdownTable, ratio } from '../measure.js';

const PAYLOAD = Buffer.alloc(64, 0x61);
const BATCH = 1000;

type Impl = 'iotwire' | 'mqtt.js';
type Row = 'publish-qos0' | 'publish-qos1' | 'receive-qos1' | 'receive-qos0';

/** MQTT.js's client is not typed as a Node EventEmitter. */
const connected = (c: mqtt.MqttClient) =>
  new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });

/** CPU time (user + system, µs) this process spent in the last timed window. */
let lastCpuUs = 0;
const cpuSince = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  lastCpuUs = d.user + d.system;
};

const tick = () => new Promise<void>((r) => setImmediate(r));

async function ourPublish(url: string, count: number, qos: 0 | 1): Promise<number> {
  const c = new MqttClient({ url, clientId: `bench-our-${qos}-${Date.now()}`, keepAlive: 0, queue: { maxMessages: count } });
  await c.connect();
  const start = performance.now();
  const c0 = process.cpuUsage();
  let last: Promise<unknown> = Promise.resolve();
  for (let sent = 0; sent < count; ) {
    for (let i = 0; i < BATCH && sent < count; i++, sent++) {
      const p = c.publish('bench/pub', PAYLOAD, qos === 1 ? { qos: 1 } : undefined);
      if (sent === count - 1) last = p;
    }
    await tick();
  }
  await (qos === 0 ? c.publish('bench/pub', PAYLOAD, { qos: 1 }) : last);
  if (qos === 1) while (c.outgoingMessages.length > 0) await tick();
  const ms = performance.now() - start;
  cpuSince(c0);
  await c.disconnect();
  return ms;
}

async function theirPublish(url: string, count: number, qos: 0 | 1): Promise<number> {
  const c = mqtt.connect(url, { clientId: `bench-their-${qos}-${Date.now()}`, keepalive: 0, protocolVersion: 4 });
  await connected(c);
  const start = performance.now();
  const c0 = process.cpuUsage();
  let acked = 0;
  const allAcked = new Promise<void>((resolve) => {
    const onAck = (err?: Error) => {
      if (err) throw err;
      if (++acked === (qos === 1 ? count : 1)) resolve();
    };
    void (async () => {
      for (let sent = 0; sent < count; ) {
        for (let i = 0; i < BATCH && sent < count; i++, sent++) {
          if (qos === 1) c.publish('bench/pub', PAYLOAD, { qos: 1 }, onAck);
          else c.publish('bench/pub', PAYLOAD, { qos: 0 });
        }
        await tick();
      }
      if (qos === 0) c.publish('bench/pub', PAYLOAD, { qos: 1 }, onAck);
    })();
  });
  await allAcked;
  const ms = performance.now() - start;
  cpuSince(c0);
  await c.endAsync();
  return ms;
}

/** Publishes `count` QoS 1 messages from a raw socket (pre-encoded) and waits until Mosquitto acked them all. */
async function feed(port: number, topic: string, count: number, qos: 0 | 1): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.write(encode({ type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: `feeder-${Date.now()}` }, 4));
  const chunks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    chunks.push(
      encode(
        { type: 'publish', topic, payload: PAYLOAD, qos, retain: false, dup: false, ...(qos ? { packetId: (i % 65535) + 1 } : {}) },
        4,
      ),
    );
  }
  // A final QoS 1 marker: once every PUBACK is in (4 bytes each, after the 4-byte CONNACK),
  // Mosquitto has processed everything (ids wrap past 65,535, so acks are counted, not matched).
  chunks.push(encode({ type: 'publish', topic: `${topic}/end`, payload: PAYLOAD, qos: 1, retain: false, dup: false, packetId: 65535 }, 4));
  const big = Buffer.concat(chunks);
  const expected = 4 + 4 * ((qos ? count : 0) + 1);
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      seen += d.length;
      if (seen >= expected) resolve();
    });
  });
  for (let off = 0; off < big.length; off += 64 * 1024) {
    if (!s.write(big.subarray(off, off + 64 * 1024))) await once(s, 'drain');
  }
  await done;
  s.destroy();
}

async function ourReceiveQueued(url: string, port: number, count: number, qos: 0 | 1): Promise<number> {
  const clientId = `bench-our-rx-${Date.now()}`;
  const topic = `bench/rx/${clientId}`;
  const c = new MqttClient({ url, clientId, clean: false, keepAlive: 0 });
  await c.connect();
  await c.subscribe(topic, { qos });
  await c.disconnect();
  await feed(port, topic, count, qos);
  let n = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  c.on('messageIn', (m) => {
    if (m.topic === topic && ++n === count) resolveDone();
  });
  const start = performance.now();
  const c0 = process.cpuUsage();
  await c.connect();
  await done;
  const ms = performance.now() - start;
  cpuSince(c0);
  await c.disconnect();
  // Clean the persistent session away.
  const cleaner = new MqttClient({ url, clientId, clean: true, keepAlive: 0 });
  await cleaner.connect();
  await cleaner.disconnect();
  return ms;
}

async function theirReceiveQueued(url: string, port: number, count: number, qos: 0 | 1): Promise<number> {
  const clientId = `bench-their-rx-${Date.now()}`;
  const topic = `bench/rx/${clientId}`;
  let c = mqtt.connect(url, { clientId, clean: false, keepalive: 0, protocolVersion: 4 });
  await connected(c);
  await c.subscribeAsync(topic, { qos });
  await c.endAsync();
  await feed(port, topic, count, qos);
  let n = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const start = performance.now();
  const c0 = process.cpuUsage();
  c = mqtt.connect(url, { clientId, clean: false, keepalive: 0, protocolVersion: 4, resubscribe: false });
  c.on('message', (t) => {
    if (t === topic && ++n === count) resolveDone();
  });
  await done;
  const ms = performance.now() - start;
  cpuSince(c0);
  await c.endAsync();
  const cleaner = mqtt.connect(url, { clientId, clean: true, keepalive: 0, protocolVersion: 4 });
  await connected(cleaner);
  await cleaner.endAsync();
  return ms;
}

/** Receives `count` messages streamed by the raw peer after SUBSCRIBE (timed from the SUBSCRIBE). */
async function ourReceiveRaw(url: string, count: number, qos: 0 | 1): Promise<number> {
  const c = new MqttClient({ url, clientId: `bench-our-raw-${Date.now()}`, keepAlive: 0 });
  await c.connect();
  const topic = `bench/raw/${qos}/${count}`;
  let n = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  c.on('messageIn', () => {
    if (++n === count) resolveDone();
  });
  const start = performance.now();
  const c0 = process.cpuUsage();
  await c.subscribe(topic, { qos });
  await done;
  const ms = performance.now() - start;
  cpuSince(c0);
  await c.disconnect();
  return ms;
}

async function theirReceiveRaw(url: string, count: number, qos: 0 | 1): Promise<number> {
  const c = mqtt.connect(url, { clientId: `bench-their-raw-${Date.now()}`, keepalive: 0, protocolVersion: 4 });
  await connected(c);
  const topic = `bench/raw/${qos}/${count}`;
  let n = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  c.on('message', () => {
    if (++n === count) resolveDone();
  });
  const start = performance.now();
  const c0 = process.cpuUsage();
  await c.subscribeAsync(topic, { qos });
  await done;
  const ms = performance.now() - start;
  cpuSince(c0);
  await c.endAsync();
  return ms;
}

/** Starts raw-peer.js in its own process; resolves with its port and a stop function. */
async function startRawPeer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL('./raw-peer.js', import.meta.url));
  const child = spawn(process.execPath, [script, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /raw-peer listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`raw peer exited (${code}) before listening: ${out}`)));
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Fails a run that takes longer than `ms` instead of hanging the suite. */
function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { count: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' }, peer: { type: 'string' } },
    allowPositionals: true,
    strict: false,
  });
  const count = Number(values.count ?? 100_000);
  const rounds = Number(values.rounds ?? 5);
  const qos1Count = Math.min(count, 50_000);
  const all: Row[] = ['publish-qos0', 'publish-qos1', 'receive-qos1', 'receive-qos0'];
  const rows = values.only ? (String(values.only).split(',') as Row[]) : all;
  const peers = String(values.peer ?? 'mosquitto,raw').split(',') as ('mosquitto' | 'raw')[];
  const table: (string | number)[][] = [];
  for (const peer of peers) {
    const broker =
      peer === 'mosquitto'
        ? await startMosquitto({
            // Unlimited in-flight and queue so Mosquitto never throttles or drops during a run.
            extraConfig: ['max_inflight_messages 0', 'max_queued_messages 0', 'max_queued_bytes 0', 'queue_qos0_messages true'],
          })
        : await startRawPeer();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    try {
      for (const row of rows) {
        const times: Record<Impl, number[]> = { iotwire: [], 'mqtt.js': [] };
        const cpu: Record<Impl, number[]> = { iotwire: [], 'mqtt.js': [] };
        for (let r = 0; r < rounds; r++) {
          for (const impl of (r % 2 === 0 ? ['iotwire', 'mqtt.js'] : ['mqtt.js', 'iotwire']) as Impl[]) {
            const ours = impl === 'iotwire';
            const one = (): Promise<number> => {
              if (row === 'publish-qos0') return ours ? ourPublish(url, count, 0) : theirPublish(url, count, 0);
              if (row === 'publish-qos1') return ours ? ourPublish(url, qos1Count, 1) : theirPublish(url, qos1Count, 1);
              const q = row === 'receive-qos1' ? 1 : 0;
              if (peer === 'raw') return ours ? ourReceiveRaw(url, count, q) : theirReceiveRaw(url, count, q);
              return ours ? ourReceiveQueued(url, broker.port, count, q) : theirReceiveQueued(url, broker.port, count, q);
            };
            const ms = await deadline(one(), 180_000, `${row} via ${peer} (${impl})`);
            times[impl].push(ms);
            cpu[impl].push(lastCpuUs);
          }
        }
        const n = row === 'publish-qos1' ? qos1Count : count;
        const ours = (n / median(times.iotwire)) * 1000;
        const theirs = (n / median(times['mqtt.js'])) * 1000;
        const cpuOurs = median(cpu.iotwire) / n;
        const cpuTheirs = median(cpu['mqtt.js']) / n;
        table.push([
          row,
          peer === 'mosquitto' ? 'Mosquitto' : 'raw peer',
          fmt(ours),
          fmt(theirs),
          `${ratio(ours, theirs)}x`,
          `${cpuOurs.toFixed(2)} / ${cpuTheirs.toFixed(2)}`,
          `${ratio(cpuTheirs, cpuOurs)}x`,
        ]);
        console.log(`${row} via ${peer}: iotwire ${fmt(ours)} msg/s, mqtt.js ${fmt(theirs)} msg/s (${ratio(ours, theirs)}x)`);
      }
    } finally {
      await broker.stop();
    }
  }
  console.log(
    `\n${markdownTable(['row (64 B, MQTT 3.1.1)', 'peer', 'iotwire msg/s', 'MQTT.js msg/s', 'ratio', 'client CPU µs/msg (iotwire / MQTT.js)', 'CPU ratio'], table)}\n`,
  );
  console.log(`count=${count} rounds=${rounds} node ${process.version}`);
}
