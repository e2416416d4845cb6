// CoAP suite: `iotwire-coap serve` (our CoapServer with libcoap's demo resources) against
// node-coap's server and libcoap's coap-server-notls, each driven in turn by the same load
// generator (loadgen.ts, its own process): confirmable GET /time (a 15-byte body) from
// `--endpoints` sockets with `--depth` requests outstanding each. Reports answered requests/s,
// the server's CPU and RSS over the run (sampled every second), and the generator's CPU.
//
//   pnpm bench coap [--duration=20000] [--warmup=2000] [--endpoints=64] [--depth=1]
//                   [--rounds=1] [--only=ours,node-coap,libcoap]
//
// With --rounds > 1 the targets alternate and each keeps its best round (a shared 2-core
// machine is noisy); RSS figures come from that round.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, type PeerProcess, requireBinary, startPeer } from '@iotwire/interop';
import { fmt, markdownTable, ratio } from '../measure.js';
import type { LoadResult } from './loadgen.js';

type Target = 'ours' | 'node-coap' | 'libcoap';

interface RunResult {
  target: Target;
  load: LoadResult;
  reqPerSec: number;
  serverCpuPct: number;
  /** RSS samples in MiB, one per second of the measured window. */
  rss: number[];
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const TICKS = clockTicks();

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function startTarget(target: Target, port: number): Promise<PeerProcess> {
  const waitFor = (text: string) => (p: PeerProcess) => p.output.includes(text);
  if (target === 'ours') {
    const bin = join(dirname(require.resolve('@iotwire/coap-cli/package.json')), 'dist', 'bin.js');
    return startPeer({
      name: 'iotwire-coap serve',
      command: process.execPath,
      args: [bin, 'serve', '-A', '127.0.0.1', '-p', String(port)],
      ready: waitFor('serving'),
    });
  }
  if (target === 'node-coap') {
    return startPeer({
      name: 'node-coap',
      command: process.execPath,
      args: [join(here, 'node-coap-server.js'), String(port)],
      ready: waitFor('ready'),
    });
  }
  const bin = requireBinary('coap-server-notls');
  // -v 0: no logging, as the other two servers do not log either.
  return startPeer({
    name: 'coap-server-notls',
    command: bin,
    args: ['-A', '127.0.0.1', '-p', String(port), '-v', '0'],
    ready: async () => {
      const { coapPing, udpExchange } = await import('@iotwire/interop');
      const reply = await udpExchange(coapPing(), port);
      return reply !== undefined;
    },
  });
}

function generate(port: number, endpoints: number, depth: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(here, 'loadgen.js'), String(port), 'time', String(endpoints), String(depth), String(warmupMs), String(durationMs)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(out.trim()) as LoadResult);
    });
  });
}

async function measure(
  target: Target,
  opts: { endpoints: number; depth: number; warmupMs: number; durationMs: number },
): Promise<RunResult> {
  const port = await freePort('udp', { count: 2 });
  const server = await startTarget(target, port);
  try {
    const pid = server.pid;
    const rss: number[] = [];
    let cpuStart = 0;
    let tStart = 0;
    const sampler = setTimeout(() => {
      cpuStart = cpuMs(pid);
      tStart = performance.now();
      rss.push(rssMiB(pid));
    }, opts.warmupMs);
    const every = setInterval(() => {
      if (tStart > 0) rss.push(rssMiB(pid));
    }, 1000);
    const load = await generate(port, opts.endpoints, opts.depth, opts.warmupMs, opts.durationMs);
    clearTimeout(sampler);
    clearInterval(every);
    const serverCpuPct = ((cpuMs(pid) - cpuStart) / (performance.now() - tStart)) * 100;
    rss.push(rssMiB(pid));
    return { target, load, reqPerSec: (load.requests / load.elapsedMs) * 1000, serverCpuPct, rss };
  } finally {
    await server.stop();
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      endpoints: { type: 'string' },
      depth: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const opts = {
    durationMs: Number(values.duration ?? 20_000),
    warmupMs: Number(values.warmup ?? 2000),
    endpoints: Number(values.endpoints ?? 64),
    depth: Number(values.depth ?? 1),
  };
  const rounds = Number(values.rounds ?? 1);
  const targets = (typeof values.only === 'string' ? values.only.split(',') : ['ours', 'node-coap', 'libcoap']) as Target[];
  console.log(
    `\n## coap: confirmable GET /time, ${opts.endpoints} client endpoints x ${opts.depth} outstanding, ${opts.durationMs / 1000} s per run after ${opts.warmupMs / 1000} s warm-up, ${rounds} round(s)\n`,
  );
  const best = new Map<Target, RunResult>();
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const res = await measure(t, opts);
      console.log(
        `  round ${r + 1} ${t}: ${fmt(res.reqPerSec)} req/s, server CPU ${res.serverCpuPct.toFixed(0)}%, RSS ${res.rss[0]?.toFixed(1)} → ${res.rss.at(-1)?.toFixed(1)} MiB, generator CPU ${(((res.load.cpuUserMs + res.load.cpuSystemMs) / res.load.elapsedMs) * 100).toFixed(0)}%, retries ${res.load.retries}, errors ${res.load.errors}`,
      );
      const prev = best.get(t);
      if (prev === undefined || res.reqPerSec > prev.reqPerSec) best.set(t, res);
    }
  }
  const node = best.get('node-coap')?.reqPerSec ?? 0;
  const lib = best.get('libcoap')?.reqPerSec ?? 0;
  const rows = targets.map((t) => {
    const r = best.get(t) as RunResult;
    const genCpu = ((r.load.cpuUserMs + r.load.cpuSystemMs) / r.load.elapsedMs) * 100;
    const usPerReq = (r.serverCpuPct / 100 / r.reqPerSec) * 1e6;
    return [
      t === 'ours' ? 'iotwire-coap serve' : t === 'node-coap' ? 'node-coap 1.5 server' : 'libcoap 4.3.1 coap-server-notls',
      fmt(r.reqPerSec),
      node ? `${ratio(r.reqPerSec, node)}x` : '-',
      lib ? `${ratio(r.reqPerSec, lib)}x` : '-',
      `${r.serverCpuPct.toFixed(0)}%`,
      usPerReq.toFixed(1),
      `${(r.rss[0] ?? 0).toFixed(1)} → ${(r.rss.at(-1) ?? 0).toFixed(1)} (max ${Math.max(...r.rss).toFixed(1)})`,
      `${genCpu.toFixed(0)}%`,
      String(r.load.retries),
    ];
  });
  console.log(
    `\n${markdownTable(['server', 'req/s', 'vs node-coap', 'vs libcoap', 'server CPU', 'server CPU µs/req', 'server RSS MiB (start → end)', 'generator CPU', 'retries'], rows)}\n`,
  );
}
