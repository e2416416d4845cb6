// DTLS suite: @iotwire/dtls's DtlsServer against libcoap's coap-server-openssl (OpenSSL 3 DTLS),
// side by side in one run, both driven by the same client (@iotwire/dtls's DtlsClient in a
// worker thread). `pnpm bench dtls [--duration=ms] [--concurrency=n] [--rounds=n] [--only=word,...]`. Each scenario
// runs ours then theirs `rounds` times, alternating, and keeps the best of each (a shared 2-core
// machine is noisy).
//
//  - full handshakes/s, PSK (TLS_PSK_WITH_AES_128_CCM_8) and certificate
//    (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, P-256), each with the HelloVerifyRequest cookie
//    exchange and a close_notify; the client forgets the session so no handshake is resumed;
//  - CoAP GET round trips/s over established PSK sessions at the DTLS layer (ours: DtlsServer
//    with a minimal 2.05 responder; libcoap: its full CoAP stack serving `/`);
//  - coaps GET requests/s over established PSK sessions, full stack against full stack: our
//    `iotwire-coap serve -k` (CoapServer over DtlsServer, its own process) against
//    `coap-server-openssl -k`, both serving `/` on their DTLS port (CoAP port + 1).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DtlsServer, type DtlsServerOptions } from '@iotwire/dtls';
import { freePort, type LibcoapPeer, requireBinary, startLibcoapServer, startPeer } from '@iotwire/interop';
import { fmt, markdownTable, ratio } from '../measure.js';
import type { DriverJob, DriverResult } from './driver.js';

interface Pki {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

function makePki(): Pki {
  const openssl = requireBinary('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-bench-dtls-'));
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'ignore' });
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  run(
    'req',
    '-new',
    '-x509',
    '-key',
    'server.key',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  );
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

function drive(job: DriverJob): Promise<DriverResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./driver.js', import.meta.url), { workerData: job });
    w.once('message', (r: DriverResult) => {
      resolve(r);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const coapReply = (req: Buffer): Buffer | undefined => {
  if (req.length < 4 || req[0]! >> 6 !== 1 || req[1] === 0) return undefined;
  const tkl = req[0]! & 0x0f;
  // Piggybacked ACK (or NON), 2.05 Content, same MID and token, payload "ok".
  const type = ((req[0]! >> 4) & 3) === 0 ? 2 : 1;
  return Buffer.concat([
    Buffer.from([0x40 | (type << 4) | tkl, 0x45, req[2]!, req[3]!]),
    req.subarray(4, 4 + tkl),
    Buffer.from([0xff, 0x6f, 0x6b]),
  ]);
};

async function ourServer(options: DtlsServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = new DtlsServer({ host: '127.0.0.1', port: 0, ...options });
  server.on('message', (d, peer) => {
    const r = coapReply(d);
    if (r) server.send(r, peer).catch(() => {});
  });
  const addr = await server.bind();
  return { port: addr.port, close: () => server.close() };
}

/** utime + stime of a process in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
  } catch {
    return Number.NaN;
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const TICKS = clockTicks();

/** `iotwire-coap serve` with DTLS, in its own process like libcoap; resolves with its coaps port. */
async function ourCoapServer(args: string[]): Promise<{ port: number; pid: number; close(): Promise<void> }> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('@iotwire/coap-cli/package.json')), 'dist', 'bin.js');
  const port = await freePort('udp', { count: 2 });
  const proc = await startPeer({
    name: 'iotwire-coap serve',
    command: process.execPath,
    args: [bin, 'serve', '-A', '127.0.0.1', '-p', String(port), ...args],
    ready: (p) => p.output.includes('serving'),
  });
  return { port: port + 1, pid: proc.pid, close: () => proc.stop() };
}

interface Scenario {
  name: string;
  kind: DriverJob['kind'];
  client: DriverJob['client'];
  ours: DtlsServerOptions;
  /** Instead of an in-process DtlsServer: `iotwire-coap serve` with these arguments. */
  oursCli?: string[];
  theirs: string[];
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { duration: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const durationMs = Number(values.duration ?? 3000);
  const concurrency = Number(values.concurrency ?? 16);
  const rounds = Number(values.rounds ?? 2);
  const pki = makePki();
  const psk = { identity: 'Client_identity', key: 'secretPSK' };
  const scenarios: Scenario[] = [
    {
      name: 'full handshakes/s, PSK-AES128-CCM8',
      kind: 'handshake',
      client: { psk, cipherSuites: 'TLS_PSK_WITH_AES_128_CCM_8' },
      ours: { psk: { keys: { Client_identity: 'secretPSK' } } },
      theirs: ['-k', 'secretPSK'],
    },
    {
      name: 'full handshakes/s, ECDHE-ECDSA-AES128-CCM8 (P-256)',
      kind: 'handshake',
      client: { ca: pki.cert, cipherSuites: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', groups: ['secp256r1'] },
      ours: { cert: pki.cert, key: pki.key },
      theirs: ['-c', pki.certFile, '-j', pki.keyFile, '-n'],
    },
    {
      name: 'CoAP GET round trips/s over established PSK sessions (DTLS layer: DtlsServer + minimal responder)',
      kind: 'rtt',
      client: { psk, cipherSuites: 'TLS_PSK_WITH_AES_128_CCM_8' },
      ours: { psk: { keys: { Client_identity: 'secretPSK' } } },
      theirs: ['-k', 'secretPSK'],
    },
    {
      name: 'coaps GET req/s over established PSK sessions (full stack: iotwire-coap serve -k)',
      kind: 'rtt',
      client: { psk, cipherSuites: 'TLS_PSK_WITH_AES_128_CCM_8' },
      ours: {},
      oursCli: ['-k', 'secretPSK'],
      theirs: ['-k', 'secretPSK'],
    },
  ];

  const rows: (string | number)[][] = [];
  // --only=handshake,coaps runs the scenarios whose name contains one of the words.
  const only = typeof values.only === 'string' ? values.only.split(',') : undefined;
  for (const s of scenarios.filter((x) => only === undefined || only.some((w) => x.name.includes(w)))) {
    const conc = s.kind === 'rtt' ? concurrency * 2 : concurrency;
    const job = (port: number): DriverJob => ({ kind: s.kind, port, durationMs, warmupMs: 500, concurrency: conc, client: s.client });
    let oursRate = 0;
    let theirsRate = 0;
    const errors = [0, 0];
    // Server CPU per operation (both servers in their own process only): steadier than the
    // rate on a shared machine, where the rate measures scheduling as much as work.
    const cpu: [number[], number[]] = [[], []];
    const perOp = (pid: number, run: () => Promise<DriverResult>) => async () => {
      const c0 = cpuMs(pid);
      const r = await run();
      // The CPU window also covers the warm-up: scale the measured operations to it.
      const ops = r.ops * ((r.elapsedMs + 500) / r.elapsedMs);
      return { r, us: ((cpuMs(pid) - c0) * 1000) / ops };
    };
    for (let round = 0; round < rounds; round++) {
      const ours = s.oursCli ? await ourCoapServer(s.oursCli) : await ourServer(s.ours);
      let a: DriverResult;
      if ('pid' in ours) {
        const m = await perOp(ours.pid as number, () => drive(job(ours.port)))();
        a = m.r;
        cpu[0].push(m.us);
      } else a = await drive(job(ours.port));
      await ours.close();
      let peer: LibcoapPeer | undefined;
      let b: DriverResult;
      try {
        peer = await startLibcoapServer({ flavor: 'openssl', args: [...s.theirs, '-v', '0'] });
        const port = peer.dtlsPort;
        if (s.oursCli) {
          const m = await perOp(peer.process.pid, () => drive(job(port)))();
          b = m.r;
          cpu[1].push(m.us);
        } else b = await drive(job(port));
      } finally {
        await peer?.stop();
      }
      oursRate = Math.max(oursRate, (a.ops / a.elapsedMs) * 1000);
      theirsRate = Math.max(theirsRate, (b.ops / b.elapsedMs) * 1000);
      errors[0]! += a.errors;
      errors[1]! += b.errors;
      const us = (i: 0 | 1) => (cpu[i].length > round ? `, server CPU ${cpu[i][round]!.toFixed(1)} µs/op` : '');
      console.error(
        `  ${s.name} round ${round + 1}: ours ${fmt((a.ops / a.elapsedMs) * 1000)}/s (${a.retransmissions} retransmissions${us(0)}), libcoap ${fmt((b.ops / b.elapsedMs) * 1000)}/s (${b.retransmissions} retransmissions${us(1)})`,
      );
      if (a.errors) console.error(`  ${s.name} (ours): ${a.errors} errors, first: ${a.firstError}`);
      if (b.errors) console.error(`  ${s.name} (libcoap): ${b.errors} errors, first: ${b.firstError}`);
    }
    const best = (xs: number[]) => (xs.length > 0 ? Math.min(...xs).toFixed(1) : '-');
    rows.push([
      s.name,
      fmt(oursRate),
      fmt(theirsRate),
      ratio(oursRate, theirsRate),
      cpu[0].length > 0 ? `${best(cpu[0])} / ${best(cpu[1])}` : '-',
      `${errors[0]}/${errors[1]}`,
    ]);
  }
  console.log(
    `\n## dtls (best of ${rounds} alternating runs of ${durationMs} ms; ${concurrency} concurrent clients for handshakes, ${concurrency * 2} for round trips)\n`,
  );
  console.log(
    markdownTable(
      [
        'scenario',
        '@iotwire/dtls DtlsServer',
        'libcoap coap-server-openssl',
        'ratio (ours/theirs)',
        'server CPU µs/op, best (ours/theirs)',
        'errors (ours/theirs)',
      ],
      rows,
    ),
  );
}
