// TCP suite: @iotwire/tcp-server against a bare node:net echo server (and, for TLS, a bare
// node:tls server), each in its own child process, all driven by the same client in this
// process over loopback.
// `pnpm bench tcp [--duration=ms] [--rounds=n] [--conns=n] [--idle=n] [--size=bytes] [--only=kind,...]`.
//
//  - echo throughput: msgs/s with `conns` connections (default 100), each sending one
//    `size`-byte message (default 64) and waiting for its echo before the next (ping-pong);
//    `rounds` (default 5) interleaved runs of `duration` ms (default 2000) each, median;
//  - memory: RSS per idle connection with `idle` connections (default 10,000), measured in
//    the server's process after GC (RSS after connecting minus RSS before, divided by n).
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { cpus as osCpus } from 'node:os';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { fmt, markdownTable, ratio } from '../measure.js';
import type { EchoKind } from './echo-server.js';

interface Child {
  port: number;
  fdLimit: number;
  stats(): Promise<{ rss: number; heapUsed: number; connections: number }>;
  /** CPU time (user + system, µs) the server process has used so far. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Ping-pong over loopback on 2 cores is bimodal: rounds land at ~50k or ~80k msgs/s depending
 * on whether the scheduler puts server and client on the same core. Pinning the servers to
 * CPU 0 and this (client) process to CPU 1 makes rounds comparable. Off with `--pin=false`.
 */
let pinServer = '';

/** Starts an echo server child; `ulimit -n` is raised to the hard limit first. */
function startChild(kind: EchoKind): Promise<Child> {
  const script = new URL('./echo-server.js', import.meta.url).pathname;
  const child = spawn(
    'sh',
    ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${pinServer}"$0" --expose-gc "$1" "$2"`, process.execPath, script, kind],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.once('message', (m: { type: string; port: number; fdLimit: number }) => {
      const waiters: Array<(s: never) => void> = [];
      const cpuWaiters: Array<(micros: number) => void> = [];
      child.on('message', (msg: { type: string; micros?: number }) => {
        if (msg.type === 'stats') waiters.shift()?.(msg as never);
        else if (msg.type === 'cpu') cpuWaiters.shift()?.(msg.micros ?? 0);
      });
      resolve({
        port: m.port,
        fdLimit: m.fdLimit,
        stats: () =>
          new Promise((r) => {
            waiters.push(r as never);
            child.send({ type: 'stats' });
          }),
        cpu: () =>
          new Promise((r) => {
            cpuWaiters.push(r);
            child.send({ type: 'cpu' });
          }),
        stop: () =>
          new Promise<void>((r) => {
            child.removeAllListeners('exit');
            child.once('exit', () => r());
            child.send({ type: 'exit' });
          }),
      });
    });
  });
}

function connect(port: number, secure: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = secure
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s))
      : net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Opens `n` connections, at most `parallel` at a time. */
async function openMany(port: number, secure: boolean, n: number, parallel = 200): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        next++;
        const s = await connect(port, secure);
        s.on('error', () => {});
        out.push(s);
      }
    }),
  );
  return out;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the server to see every connection');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Ping-pong echo over `conns` connections: msgs/s over `durationMs` after a warm-up, and the
 * server's CPU time per message (robust against other load on the machine, unlike msgs/s).
 */
async function throughput(
  child: Child,
  secure: boolean,
  conns: number,
  size: number,
  durationMs: number,
): Promise<{ rate: number; cpuPerMsg: number }> {
  const sockets = await openMany(child.port, secure, conns);
  const payload = Buffer.alloc(size, 0x61);
  let msgs = 0;
  let running = true;
  for (const s of sockets) {
    let got = 0;
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      got += d.length;
      while (got >= size) {
        got -= size;
        msgs++;
        if (running) s.write(payload);
      }
    });
    s.write(payload);
  }
  await new Promise((r) => setTimeout(r, Math.min(1000, durationMs / 4)));
  const cpu0 = await child.cpu();
  const start = performance.now();
  const startMsgs = msgs;
  await new Promise((r) => setTimeout(r, durationMs));
  const done = msgs - startMsgs;
  const elapsed = performance.now() - start;
  const cpu1 = await child.cpu();
  running = false;
  for (const s of sockets) s.destroy();
  return { rate: (done / elapsed) * 1000, cpuPerMsg: (cpu1 - cpu0) / Math.max(1, done) };
}

/** RSS growth of the server process per idle connection. */
async function memoryPerConnection(child: Child, secure: boolean, n: number): Promise<{ rss: number; heap: number }> {
  const before = await child.stats();
  const sockets = await openMany(child.port, secure, n);
  await until(async () => (await child.stats()).connections >= n, 120_000);
  const after = await child.stats();
  for (const s of sockets) s.destroy();
  return { rss: (after.rss - before.rss) / n, heap: (after.heapUsed - before.heapUsed) / n };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fdLimit(): number {
  return Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || 1024;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      conns: { type: 'string' },
      idle: { type: 'string' },
      size: { type: 'string' },
      only: { type: 'string' },
      rounds: { type: 'string' },
      pin: { type: 'string' },
    },
    allowPositionals: true,
    strict: false,
  });
  if (values.pin !== 'false' && osCpus().length >= 2 && spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]).status === 0) {
    pinServer = 'taskset -c 0 ';
    console.log('pinned: servers on CPU 0, client on CPU 1');
  }
  const durationMs = Number(values.duration ?? 2000);
  const conns = Number(values.conns ?? 100);
  const size = Number(values.size ?? 64);
  let idle = Number(values.idle ?? 10_000);
  // This process holds the client side of every idle connection.
  const clientLimit = fdLimit();
  if (idle + 100 > clientLimit) {
    console.log(
      `note: ulimit -n is ${clientLimit} in the client process; measuring ${clientLimit - 200} idle connections instead of ${idle}`,
    );
    idle = clientLimit - 200;
  }
  console.log(
    `\n## tcp: echo throughput (${conns} connections, ${size}-byte ping-pong, median of ${Number(values.rounds ?? 5)} × ${durationMs} ms) and RSS per idle connection (${fmt(idle)} connections)\n`,
  );

  const kinds: Array<{ kind: EchoKind; label: string; secure: boolean; baseline: EchoKind }> = [
    { kind: 'net', label: 'node:net echo (baseline)', secure: false, baseline: 'net' },
    { kind: 'tcp-server', label: '@iotwire/tcp-server, dataIn events', secure: false, baseline: 'net' },
    { kind: 'tcp-server-raw', label: '@iotwire/tcp-server, raw mode (onData)', secure: false, baseline: 'net' },
    { kind: 'tls', label: 'node:tls echo (baseline)', secure: true, baseline: 'tls' },
    { kind: 'tcp-server-tls', label: '@iotwire/tcp-server, implicit TLS', secure: true, baseline: 'tls' },
  ];
  const only = typeof values.only === 'string' ? new Set(values.only.split(',')) : undefined;
  // A selected server always runs with its baseline.
  const wanted = new Set(kinds.filter((k) => !only || only.has(k.kind)).flatMap((k) => [k.kind, k.baseline]));
  const selected = kinds.filter((k) => wanted.has(k.kind));
  const rounds = Math.max(1, Number(values.rounds ?? 5));
  const children = new Map<EchoKind, Child>();
  const rates = new Map<EchoKind, number[]>();
  const cpus = new Map<EchoKind, number[]>();
  const results = new Map<EchoKind, { rate: number; cpu: number; rss: number; heap: number; fd: number }>();
  try {
    for (const k of selected) {
      const child = await startChild(k.kind);
      children.set(k.kind, child);
      if (child.fdLimit < idle + 100) console.log(`note: ${k.kind} server fd limit ${child.fdLimit} is below ${idle + 100}`);
    }
    // Throughput: interleaved rounds in rotating order, median per server, so a noisy moment
    // on a shared machine does not land on one server only.
    for (let r = 0; r < rounds; r++) {
      const order = selected.map((_k, i) => selected[(i + r) % selected.length]!);
      for (const k of order) {
        const t = await throughput(children.get(k.kind)!, k.secure, conns, size, durationMs);
        rates.set(k.kind, [...(rates.get(k.kind) ?? []), t.rate]);
        cpus.set(k.kind, [...(cpus.get(k.kind) ?? []), t.cpuPerMsg]);
      }
    }
    for (const c of children.values()) await c.stop();
    children.clear();
    // Memory: a fresh server process per kind, alone, so earlier traffic does not colour its RSS.
    for (const k of selected) {
      const child = await startChild(k.kind);
      let mem: { rss: number; heap: number };
      try {
        mem = await memoryPerConnection(child, k.secure, idle);
      } finally {
        await child.stop();
      }
      const rate = median(rates.get(k.kind)!);
      const cpu = median(cpus.get(k.kind)!);
      results.set(k.kind, { rate, cpu, rss: mem.rss, heap: mem.heap, fd: child.fdLimit });
      console.log(
        `  ${k.label}: ${fmt(rate)} msgs/s (rounds: ${rates.get(k.kind)!.map(fmt).join(', ')}), server CPU ${cpu.toFixed(2)} µs/msg (rounds: ${cpus
          .get(k.kind)!
          .map((c) => c.toFixed(2))
          .join(', ')}), ${fmt(mem.rss)} B RSS/conn`,
      );
    }
  } finally {
    for (const c of children.values()) await c.stop();
  }
  const rows = selected.map((k) => {
    const r = results.get(k.kind)!;
    const b = results.get(k.baseline)!;
    const base = k.kind === k.baseline;
    return [
      k.label,
      fmt(r.rate),
      base ? '1.00' : ratio(r.rate, b.rate).toFixed(2),
      r.cpu.toFixed(2),
      base ? '1.00' : ratio(b.cpu, r.cpu).toFixed(2),
      fmt(r.rss),
      fmt(r.heap),
      base ? '1.00' : ratio(r.rss, b.rss).toFixed(2),
    ];
  });
  console.log(
    `\n${markdownTable(
      [
        'server',
        'echo msgs/s',
        'throughput ratio (≥ 0.90)',
        'server CPU µs/msg',
        'CPU efficiency ratio (theirs/ours)',
        'RSS B/idle conn',
        'JS heap B/idle conn',
        'memory ratio (≤ 1.20)',
      ],
      rows,
    )}\n`,
  );
  console.log(`client fd limit ${clientLimit}; server fd limit ${results.get('net')?.fd}; Node ${process.version}`);
}
