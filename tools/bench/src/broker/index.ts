// Broker suite: @iotwire/mqtt-broker, Aedes (npm) and Mosquitto (Debian), each in its own
// process, driven by the same load generator (forked processes, raw sockets, prebuilt packets).
// `pnpm bench broker [--duration=ms] [--warmup=ms] [--idle=n] [--only=iotwire,aedes,mosquitto] [--rows=fanin,fanout,pairs,pairs1,latency,idle] [--rounds=n] [--prof=DIR] [--node-args=...]`
//
// Rows: fan-in 8→1 and fan-out 1→50 at QoS 0, 50 publisher/subscriber pairs at QoS 1
// (window 16 per publisher; the generator answers each received chunk with one write, and
// in the `pairs1` row with one write per reply), 64-byte payloads; latency p50/p99 at a fixed
// 10k msg/s (one publisher, one subscriber, one write per message); broker RSS per idle
// connection with `--idle` (5,000) connections.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startAedes, startMosquitto, startPeer, tcpOpen } from '@iotwire/interop';
import { fmt, markdownTable } from '../measure.js';
import { cpuOf, LoadGenerator } from './generator.js';
import type { Setup } from './loadgen.js';

type BrokerName = 'iotwire' | 'aedes' | 'mosquitto';
interface Running {
  name: BrokerName;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** `--prof=DIR`: run our broker under `node --cpu-prof` (profiles written to DIR on exit). */
let profDir: string | undefined;
/**
 * Node/V8 flags of our broker's process: by default those of the `iotwire-broker` bin's
 * shebang (a 2 MiB young generation: V8 otherwise grows it to 16 MiB per semi-space during a
 * burst of long-lived connection state, ~4 KB of RSS per connection at 5,000 connections).
 * `--node-args=""` runs with Node's defaults.
 */
let nodeArgsExtra = '--max-semi-space-size=2';

async function startIotwire(): Promise<Running> {
  const port = await freePort('tcp');
  const nodeArgs = `${profDir ? `--cpu-prof --cpu-prof-dir=${profDir} ` : ''}${nodeArgsExtra}`.trim() || '--';
  const proc = await startPeer({
    name: 'iotwire',
    command: 'sh',
    args: [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" $3 "$1" "$2"',
      process.execPath,
      here('./iotwire-server.js'),
      String(port),
      nodeArgs,
    ],
    ready: () => tcpOpen(port),
  });
  return { name: 'iotwire', port, pid: proc.pid, stop: () => proc.stop() };
}

async function start(name: BrokerName): Promise<Running> {
  if (name === 'iotwire') return startIotwire();
  if (name === 'aedes') {
    const a = await startAedes();
    return { name, port: a.port, pid: a.process.pid, stop: () => a.stop() };
  }
  const m = await startMosquitto({ extraConfig: ['max_connections -1'] });
  return { name, port: m.port, pid: m.process.pid, stop: () => m.stop() };
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

interface RowResult {
  value: number;
  genCpu: string;
  brokerCpu: number;
  extra?: string;
}

const base = (port: number, warmupMs: number, durationMs: number): Omit<Setup, 'role' | 'n' | 'topic'> => ({
  port,
  perConnectionTopic: false,
  qos: 0,
  payloadSize: 64,
  window: 16,
  warmupMs,
  durationMs,
  rate: 10_000,
  clientPrefix: 'bench',
  batch: true,
});

/** Runs a sub role and a pub role in two generator processes; the value is the sub side's rate (or pub acks). */
async function pubSub(
  b: Running,
  sub: Partial<Setup> & { n: number; topic: string },
  pub: Partial<Setup> & { n: number; topic: string },
  opts: { warmupMs: number; durationMs: number; valueFrom: 'sub' | 'pub' },
): Promise<RowResult> {
  const gs = new LoadGenerator();
  const gp = new LoadGenerator();
  try {
    const common = base(b.port, opts.warmupMs, opts.durationMs);
    await gs.setup({ ...common, role: 'sub', clientPrefix: 'sub', ...sub });
    await gp.setup({ ...common, role: 'pub', clientPrefix: 'pub', ...pub });
    const cpu0 = cpuOf(b.pid);
    const t0 = performance.now();
    const [rs, rp] = await Promise.all([gs.go(), gp.go()]);
    const brokerCpu = ((cpuOf(b.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    return {
      value: opts.valueFrom === 'sub' ? rs.rate : rp.rate,
      genCpu: `sub ${Math.round(rs.cpu)}% / pub ${Math.round(rp.cpu)}%`,
      brokerCpu,
    };
  } finally {
    await Promise.all([gs.stop(), gp.stop()]);
  }
}

async function latency(b: Running, warmupMs: number, durationMs: number): Promise<RowResult> {
  const g = new LoadGenerator();
  try {
    await g.setup({ ...base(b.port, warmupMs, durationMs), role: 'latency', n: 1, topic: 'bench/latency' });
    const cpu0 = cpuOf(b.pid);
    const t0 = performance.now();
    const r = await g.go();
    const brokerCpu = ((cpuOf(b.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    return {
      value: r.p99 ?? Number.NaN,
      genCpu: `${Math.round(r.cpu)}%`,
      brokerCpu,
      extra: `p50 ${(r.p50 ?? 0).toFixed(3)} ms, ${fmt(r.samples ?? 0)} samples`,
    };
  } finally {
    await g.stop();
  }
}

/** RSS growth of the broker process per idle connection (CONNECT done, Keep Alive 0), 2 s after connecting. */
async function idle(b: Running, n: number): Promise<RowResult> {
  const g = new LoadGenerator();
  try {
    await new Promise((r) => setTimeout(r, 500));
    const before = rssOf(b.pid);
    await g.setup({ ...base(b.port, 0, 0), role: 'idle', n, topic: 'x', clientPrefix: 'idle' });
    await new Promise((r) => setTimeout(r, 2000));
    const after = rssOf(b.pid);
    return { value: (after - before) / n, genCpu: '-', brokerCpu: 0, extra: `RSS ${fmt(before / 1048576)} → ${fmt(after / 1048576)} MiB` };
  } finally {
    await g.stop();
  }
}

const ROWS = ['fanin', 'fanout', 'pairs', 'pairs1', 'latency', 'idle'] as const;
type Row = (typeof ROWS)[number];
const LABEL: Record<Row, string> = {
  fanin: 'fan-in 8→1, QoS 0 (msgs/s received)',
  fanout: 'fan-out 1→50, QoS 0 (deliveries/s)',
  pairs: '50 pairs, QoS 1 (msgs/s acknowledged)',
  pairs1: '50 pairs, QoS 1, one write per reply (msgs/s acknowledged)',
  latency: 'latency at 10k msg/s, QoS 0: p99 (ms)',
  idle: 'RSS per idle connection (bytes)',
};

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      idle: { type: 'string' },
      only: { type: 'string' },
      rows: { type: 'string' },
      prof: { type: 'string' },
      'node-args': { type: 'string' },
      rounds: { type: 'string' },
    },
    allowPositionals: true,
    strict: false,
  });
  if (typeof values.prof === 'string') profDir = values.prof;
  if (typeof values['node-args'] === 'string') nodeArgsExtra = values['node-args'];
  const durationMs = Number(values.duration ?? 3000);
  const warmupMs = Number(values.warmup ?? 1000);
  const idleN = Number(values.idle ?? 5000);
  const names = (typeof values.only === 'string' ? values.only.split(',') : ['iotwire', 'aedes', 'mosquitto']) as BrokerName[];
  const rows = (typeof values.rows === 'string' ? values.rows.split(',') : [...ROWS]) as Row[];
  console.log(`\n## broker: ${names.join(', ')}; ${durationMs} ms windows after ${warmupMs} ms warm-up; 64-byte payloads\n`);
  const rounds = Math.max(1, Number(values.rounds ?? 1));
  // Row-major and rotating, so a noisy moment on a shared machine hits every broker of a row
  // alike; with --rounds > 1 each figure is the median of its rounds.
  const samples = new Map<string, RowResult[]>();
  for (const row of rows) {
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_n, i) => names[(i + r) % names.length] as BrokerName);
      for (const name of order) {
        // A fresh broker per measurement: no state or fragmentation carried over.
        const b = await start(name);
        try {
          let res: RowResult;
          if (row === 'fanin')
            res = await pubSub(
              b,
              { n: 1, topic: 'bench/fanin' },
              { n: 8, topic: 'bench/fanin' },
              { warmupMs, durationMs, valueFrom: 'sub' },
            );
          else if (row === 'fanout')
            res = await pubSub(
              b,
              { n: 50, topic: 'bench/fanout' },
              { n: 1, topic: 'bench/fanout' },
              { warmupMs, durationMs, valueFrom: 'sub' },
            );
          else if (row === 'pairs' || row === 'pairs1') {
            const side = { n: 50, topic: 'bench/pair', perConnectionTopic: true, qos: 1 as const, batch: row === 'pairs' };
            res = await pubSub(b, side, side, { warmupMs, durationMs, valueFrom: 'pub' });
          } else if (row === 'latency') res = await latency(b, warmupMs, durationMs);
          else res = await idle(b, idleN);
          samples.set(`${name}:${row}`, [...(samples.get(`${name}:${row}`) ?? []), res]);
          console.log(
            `  ${name} ${row}: ${row === 'latency' ? res.value.toFixed(3) : fmt(res.value)}  (broker CPU ${Math.round(res.brokerCpu)}%, generator CPU ${res.genCpu}${res.extra ? `, ${res.extra}` : ''})`,
          );
        } finally {
          await b.stop();
        }
      }
    }
  }
  const results = new Map<string, RowResult>();
  for (const [k, list] of samples) {
    const sorted = [...list].sort((a, b) => a.value - b.value);
    results.set(k, sorted[Math.floor((sorted.length - 1) / 2)] as RowResult);
  }
  const header = ['row', ...names, ...(names.includes('iotwire') ? names.filter((n) => n !== 'iotwire').map((n) => `iotwire/${n}`) : [])];
  const table = rows.map((row) => {
    const v = (n: string) => results.get(`${n}:${row}`)?.value ?? Number.NaN;
    const cell = (n: string) => (row === 'latency' ? v(n).toFixed(3) : fmt(v(n)));
    const ratios = names.includes('iotwire')
      ? names.filter((n) => n !== 'iotwire').map((n) => `${(Math.round((v('iotwire') / v(n)) * 100) / 100).toFixed(2)}x`)
      : [];
    return [LABEL[row], ...names.map(cell), ...ratios];
  });
  console.log(`\n${markdownTable(header, table)}\n`);
  console.log('Ratios are iotwire / peer (for latency and memory, lower is better).');
}
