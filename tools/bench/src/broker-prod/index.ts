// broker-prod suite: what production features cost, side by side in one run.
//   pnpm bench broker-prod [--duration=ms] [--warmup=ms] [--rows=qos1,fanin,fanout,engines] [--sqlite-dir=DIR]
//
// qos1: 20 publisher/subscriber pairs at QoS 1 with persistent sessions (clean=false,
//   subscribers at QoS 1, window 16 per publisher, 64-byte payloads): no storage, the in-memory
//   backend, and the durable LevelDB backend (fsync'd group commits, acknowledgements held
//   until durable). Value: PUBACKs/s at the publishers.
// fanin / fanout: QoS 0, 8→1 and 1→50, one broker process vs a 2-process cluster on one Redis
//   with the clients spread over both nodes. Value: messages/s received.
// engines: the embedded databases considered for the durable backend, on its write pattern
//   (synchronous group commits); SQLite only with --sqlite-dir (a node_modules holding
//   better-sqlite3 and/or node-sqlite3-wasm, not dependencies of this repository).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, type RedisPeer, startPeer, startRedis, tcpOpen } from '@iotwire/interop';
import { cpuOf, LoadGenerator } from '../broker/generator.js';
import type { Setup } from '../broker/loadgen.js';
import { fmt, markdownTable } from '../measure.js';
import { compareEngines } from './engines.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Proc {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(args: string[]): Promise<Proc> {
  const port = await freePort('tcp');
  const proc = await startPeer({
    name: 'iotwire broker-prod',
    command: process.execPath,
    args: ['--max-semi-space-size=2', here('./server.js'), String(port), ...args],
    ready: () => tcpOpen(port),
  });
  return { port, pid: proc.pid, stop: () => proc.stop() };
}

interface Measured {
  value: number;
  /** Broker process(es) (and Redis) CPU, % of one core. */
  cpu: number;
}

async function pubSub(pids: number[], sub: Setup, pub: Setup, valueFrom: 'sub' | 'pub'): Promise<Measured> {
  const gs = new LoadGenerator();
  const gp = new LoadGenerator();
  try {
    await gs.setup(sub);
    await gp.setup(pub);
    const c0 = pids.map(cpuOf);
    const t0 = performance.now();
    const [rs, rp] = await Promise.all([gs.go(), gp.go()]);
    const secs = (performance.now() - t0) / 1000;
    const cpu = (pids.map(cpuOf).reduce((a, b) => a + b, 0) - c0.reduce((a, b) => a + b, 0)) / secs;
    return { value: (valueFrom === 'sub' ? rs : rp).rate, cpu: cpu * 100 };
  } finally {
    await Promise.all([gs.stop(), gp.stop()]);
  }
}

const ROWS = ['qos1', 'fanin', 'fanout', 'engines'] as const;
type Row = (typeof ROWS)[number];

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { duration: { type: 'string' }, warmup: { type: 'string' }, rows: { type: 'string' }, 'sqlite-dir': { type: 'string' } },
    allowPositionals: true,
    strict: false,
  });
  const durationMs = Number(values.duration ?? 3000);
  const warmupMs = Number(values.warmup ?? 1000);
  const rows = (typeof values.rows === 'string' ? values.rows.split(',') : [...ROWS]) as Row[];
  const base = (ports: number[]): Omit<Setup, 'role' | 'n' | 'topic' | 'clientPrefix'> => ({
    port: ports[0] as number,
    ports,
    rate: 0,
    batch: true,
    perConnectionTopic: false,
    qos: 0,
    clean: true,
    payloadSize: 64,
    window: 16,
    warmupMs,
    durationMs,
  });
  console.log(`\n## broker-prod: ${durationMs} ms windows after ${warmupMs} ms warm-up; 64-byte payloads\n`);
  const tables: string[] = [];

  if (rows.includes('qos1')) {
    const out: Record<string, Measured> = {};
    for (const mode of ['none', 'memory', 'durable'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'iotwire-bench-store-'));
      const b = await startServer(mode === 'durable' ? ['durable', join(dir, 'store')] : [mode]);
      try {
        const side = { ...base([b.port]), n: 20, topic: 'prod/pair', perConnectionTopic: true, qos: 1 as const, clean: false };
        out[mode] = await pubSub(
          [b.pid],
          { ...side, role: 'sub', clientPrefix: 'psub' },
          { ...side, role: 'pub', clientPrefix: 'ppub' },
          'pub',
        );
        console.log(
          `  qos1 persistent, storage ${mode}: ${fmt((out[mode] as Measured).value)} msg/s (broker CPU ${Math.round((out[mode] as Measured).cpu)}%)`,
        );
      } finally {
        await b.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const v = (m: string) => out[m]?.value ?? Number.NaN;
    tables.push(
      markdownTable(
        [
          '20 pairs, QoS 1, persistent sessions (PUBACKs/s)',
          'no storage',
          'in-memory backend',
          'durable (LevelDB, fsync)',
          'durable / in-memory',
        ],
        [
          ['msgs/s', fmt(v('none')), fmt(v('memory')), fmt(v('durable')), `${(v('durable') / v('memory')).toFixed(2)}x`],
          ['broker CPU %', ...['none', 'memory', 'durable'].map((m) => String(Math.round(out[m]?.cpu ?? 0))), ''],
        ],
      ),
    );
  }

  const clusterRows = rows.filter((r): r is 'fanin' | 'fanout' => r === 'fanin' || r === 'fanout');
  if (clusterRows.length > 0) {
    const results: Record<string, Measured> = {};
    let redis: RedisPeer | undefined;
    for (const row of clusterRows) {
      for (const shape of ['single', 'cluster'] as const) {
        const procs: Proc[] = [];
        try {
          if (shape === 'single') procs.push(await startServer(['none']));
          else {
            redis = await startRedis();
            procs.push(await startServer(['cluster', redis.url, 'bench-a']));
            procs.push(await startServer(['cluster', redis.url, 'bench-b']));
          }
          const ports = procs.map((p) => p.port);
          const pids = [...procs.map((p) => p.pid), ...(shape === 'cluster' && redis ? [redis.process.pid] : [])];
          let m: Measured;
          if (row === 'fanin') {
            // The subscriber on the last node, publishers spread over all nodes.
            const sub = {
              ...base([ports[ports.length - 1] as number]),
              role: 'sub' as const,
              n: 1,
              topic: 'prod/fanin',
              clientPrefix: 'fisub',
            };
            const pub = { ...base(ports), role: 'pub' as const, n: 8, topic: 'prod/fanin', clientPrefix: 'fipub' };
            if (shape === 'cluster') await new Promise((r) => setTimeout(r, 300));
            m = await pubSub(pids, sub, pub, 'sub');
          } else {
            const sub = { ...base(ports), role: 'sub' as const, n: 50, topic: 'prod/fanout', clientPrefix: 'fosub' };
            const pub = { ...base([ports[0] as number]), role: 'pub' as const, n: 1, topic: 'prod/fanout', clientPrefix: 'fopub' };
            m = await pubSub(pids, sub, pub, 'sub');
          }
          results[`${row}:${shape}`] = m;
          console.log(
            `  ${row} ${shape}: ${fmt(m.value)} msg/s (broker${shape === 'cluster' ? 's + Redis' : ''} CPU ${Math.round(m.cpu)}%)`,
          );
        } finally {
          for (const p of procs) await p.stop();
          if (redis) await redis.stop();
          redis = undefined;
        }
      }
    }
    const label = { fanin: 'fan-in 8→1, QoS 0 (msgs/s received)', fanout: 'fan-out 1→50, QoS 0 (deliveries/s)' };
    tables.push(
      markdownTable(
        ['row', '1 process', '2-process cluster', 'cluster / single', 'CPU % (single / cluster incl. Redis)'],
        clusterRows.map((r) => {
          const s = results[`${r}:single`] as Measured;
          const c = results[`${r}:cluster`] as Measured;
          return [
            label[r],
            fmt(s.value),
            fmt(c.value),
            `${(c.value / s.value).toFixed(2)}x`,
            `${Math.round(s.cpu)} / ${Math.round(c.cpu)}`,
          ];
        }),
      ),
    );
  }

  if (rows.includes('engines')) {
    const sqliteDir = typeof values['sqlite-dir'] === 'string' ? values['sqlite-dir'] : undefined;
    const lines: (string | number)[][] = [];
    for (const batch of [1, 100]) {
      const { results, missing } = await compareEngines({
        batch,
        durationMs: Math.min(durationMs, 2000),
        ...(sqliteDir ? { sqliteDir } : {}),
      });
      for (const r of results) lines.push([r.engine, batch, fmt(r.commitsPerSec), fmt(r.recordsPerSec), r.maxBlockMs.toFixed(1)]);
      if (batch === 1) for (const m of missing) console.log(`  engines: ${m} (pass --sqlite-dir to compare)`);
    }
    tables.push(markdownTable(['engine', 'records per commit', 'commits/s', 'records/s', 'event loop blocked per commit (max ms)'], lines));
  }
  for (const t of tables) console.log(`\n${t}`);
  console.log('\nPreliminary unless run on a quiet machine: the load generators share the 2 cores with the brokers.');
}
