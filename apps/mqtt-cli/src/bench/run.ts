/**
 * `iotwire-mqtt bench`: N publishers and M subscribers against a broker. Every payload carries
 * its send time (monotonic ns), publisher and sequence number in the first 16 bytes, so the
 * subscribers measure end-to-end latency; the summary gives throughput and p50/p95/p99.
 */
import { performance } from 'node:perf_hooks';
import type { MqttClient, MqttMessage, PublishOptions } from '@iotwire/mqtt-client';
import type { BenchConfig } from '../args.js';
import { connectOrFail, createClient } from '../connect.js';
import type { Io } from '../io.js';
import { waitReady } from '../pub.js';
import { LatencyHistogram } from './histogram.js';
import { Progress } from './progress.js';
import { num, renderTable } from './table.js';

/** Bytes of the header every payload starts with: send time (u64 ns), publisher (u32), sequence (u32). */
export const HEADER_BYTES = 16;

export interface BenchState {
  sent: number;
  received: number;
  errors: number;
  firstReceiveNs: bigint | undefined;
  lastReceiveNs: bigint | undefined;
  latency: LatencyHistogram;
}

export interface BenchResult {
  publishers: number;
  subscribers: number;
  qos: number;
  payloadBytes: number;
  sent: number;
  expected: number;
  received: number;
  lost: number;
  publishErrors: number;
  publishSeconds: number;
  publishRate: number;
  receiveRate: number;
  latencyMs: { min: number; mean: number; p50: number; p95: number; p99: number; max: number };
}

/** Builds one payload: header then filler. */
export function benchPayload(template: Buffer, publisher: number, seq: number, nowNs: bigint): Buffer {
  const b = Buffer.allocUnsafe(template.length); // a fresh buffer: QoS 1/2 keeps it until acknowledged
  template.copy(b, HEADER_BYTES, HEADER_BYTES);
  b.writeBigUInt64BE(nowNs, 0);
  b.writeUInt32BE(publisher, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  return b;
}

/** Records a received payload's latency. */
export function recordReceipt(state: BenchState, payload: Uint8Array, nowNs: bigint): void {
  state.received++;
  state.firstReceiveNs ??= nowNs;
  state.lastReceiveNs = nowNs;
  if (payload.length < HEADER_BYTES) return;
  const sent = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readBigUInt64BE(0);
  state.latency.record(Number(nowNs - sent) / 1000);
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function publishLoop(
  client: MqttClient,
  c: BenchConfig,
  index: number,
  state: BenchState,
  deadline: number | undefined,
): Promise<void> {
  const topic = `${c.topicPrefix}/${index}`;
  const template = Buffer.alloc(c.size, 0x78);
  const pending = new Set<Promise<void>>();
  const options: PublishOptions = { qos: c.qos, retain: c.retain };
  if (c.protocolVersion === 5 && c.properties.publish) options.properties = c.properties.publish;
  const interval = c.rate ? 1000 / c.rate : 0;
  let next = performance.now();
  for (let seq = 0; deadline === undefined ? seq < c.count : performance.now() < deadline; seq++) {
    if (interval) {
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait);
      next += interval;
    }
    const result = client.publish(topic, benchPayload(template, index, seq, process.hrtime.bigint()), options);
    state.sent++;
    if (c.qos === 0) {
      // Writes leave once per tick: yield regularly so they flush and back-pressure can show.
      if ((seq & 63) === 63 || !client.readyToSend) {
        await yieldToLoop();
        await waitReady(client);
      }
      continue;
    }
    const tracked: Promise<void> = result.then(
      () => {
        pending.delete(tracked);
      },
      () => {
        pending.delete(tracked);
        state.errors++;
      },
    );
    pending.add(tracked);
    if (pending.size >= c.inflight) await Promise.race(pending);
  }
  await Promise.all(pending);
}

/** Runs the benchmark with connected clients; exported for tests. */
export async function runBenchWith(c: BenchConfig, pubs: MqttClient[], subs: MqttClient[], io: Io): Promise<BenchResult> {
  const state: BenchState = {
    sent: 0,
    received: 0,
    errors: 0,
    firstReceiveNs: undefined,
    lastReceiveNs: undefined,
    latency: new LatencyHistogram(),
  };
  for (const s of subs) {
    s.on('messageIn', (m: MqttMessage) => recordReceipt(state, m.payload, process.hrtime.bigint()));
    const up = c.protocolVersion === 5 ? c.properties.subscribe?.userProperties : undefined;
    await s.subscribe(`${c.topicPrefix}/#`, { qos: c.qos, ...(up?.length ? { userProperties: up } : {}) });
  }
  const durationMs = c.durationSec !== undefined ? c.durationSec * 1000 : undefined;
  const total = durationMs === undefined ? c.count * c.publishers : undefined;
  const t0 = performance.now();
  const t0ns = process.hrtime.bigint();
  const progress = new Progress(
    io.stderr,
    () => {
      const elapsedMs = performance.now() - t0;
      return {
        sent: state.sent,
        received: state.received,
        elapsedMs,
        fraction: total !== undefined ? state.sent / total : Math.min(1, elapsedMs / (durationMs ?? 1)),
      };
    },
    c.progress,
  );
  progress.start();
  const deadline = durationMs !== undefined ? t0 + durationMs : undefined;
  await Promise.all(pubs.map((p, i) => publishLoop(p, c, i, state, deadline)));
  const publishSeconds = (performance.now() - t0) / 1000;
  // Drain: wait for what is still on its way, until everything arrived or nothing moves for --drain s.
  const expected = state.sent * subs.length;
  let lastCount = -1;
  let quietSince = performance.now();
  while (state.received < expected) {
    if (state.received !== lastCount) {
      lastCount = state.received;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= c.drainSec * 1000) break;
    await sleep(20);
  }
  progress.stop();
  const endNs = state.lastReceiveNs ?? process.hrtime.bigint();
  const receiveSeconds = Number(endNs - t0ns) / 1e9;
  const h = state.latency;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    publishers: pubs.length,
    subscribers: subs.length,
    qos: c.qos,
    payloadBytes: c.size,
    sent: state.sent,
    expected,
    received: state.received,
    lost: Math.max(0, expected - state.received),
    publishErrors: state.errors,
    publishSeconds,
    publishRate: publishSeconds > 0 ? state.sent / publishSeconds : 0,
    receiveRate: receiveSeconds > 0 && state.received ? state.received / receiveSeconds : 0,
    latencyMs: {
      min: ms(h.min),
      mean: ms(h.mean),
      p50: ms(h.percentile(50)),
      p95: ms(h.percentile(95)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
    },
  };
}

/** The summary table. */
export function summaryTable(r: BenchResult): string {
  const lat = (v: number) => (r.received ? num(v, 3) : '-');
  return renderTable(
    ['Metric', 'Value'],
    [
      ['Publishers', String(r.publishers)],
      ['Subscribers', String(r.subscribers)],
      ['QoS', String(r.qos)],
      ['Payload (bytes)', String(r.payloadBytes)],
      ['Messages sent', num(r.sent)],
      ['Messages received', num(r.received)],
      ['Expected', num(r.expected)],
      ['Lost', num(r.lost)],
      ['Publish errors', num(r.publishErrors)],
      ['Publish time (s)', num(r.publishSeconds, 2)],
      ['Publish rate (msg/s)', num(r.publishRate)],
      ['Receive rate (msg/s)', num(r.receiveRate)],
      ['Latency min (ms)', lat(r.latencyMs.min)],
      ['Latency mean (ms)', lat(r.latencyMs.mean)],
      ['Latency p50 (ms)', lat(r.latencyMs.p50)],
      ['Latency p95 (ms)', lat(r.latencyMs.p95)],
      ['Latency p99 (ms)', lat(r.latencyMs.p99)],
      ['Latency max (ms)', lat(r.latencyMs.max)],
    ],
  );
}

/** Runs `bench`: connects everyone, measures, prints the summary; resolves with the exit code. */
export async function runBench(c: BenchConfig, io: Io): Promise<number> {
  const clients: MqttClient[] = [];
  const make = (role: string, i: number) => {
    const id = c.clientId !== undefined ? `${c.clientId}-${role}${i}` : undefined;
    const client = createClient({ ...c, ...(id !== undefined ? { clientId: id } : {}) }, io.stdout);
    clients.push(client);
    return client;
  };
  try {
    const subs = Array.from({ length: c.subscribers }, (_, i) => make('sub', i));
    const pubs = Array.from({ length: c.publishers }, (_, i) => make('pub', i));
    for (const cl of [...subs, ...pubs]) await connectOrFail(cl, c);
    const result = await runBenchWith(c, pubs, subs, io);
    io.stdout.write(c.json ? `${JSON.stringify(result)}\n` : `${summaryTable(result)}\n`);
    return 0;
  } finally {
    await Promise.all(clients.map((cl) => (cl.connected ? cl.disconnect().catch(() => {}) : cl.interrupt())));
  }
}
