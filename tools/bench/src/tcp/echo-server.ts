// Child process of the `tcp` bench suite: one echo server per process, so its RSS is measured
// alone. argv[2] selects the server; it reports its port over IPC and answers `stats` requests
// (RSS after GC, live connections) until told to exit.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { TcpServer } from '@iotwire/tcp-server';
import { generateSelfSigned } from '@iotwire/tls';

export type EchoKind = 'net' | 'tcp-server' | 'tcp-server-raw' | 'tls' | 'tcp-server-tls';

type Msg = { type: 'stats' } | { type: 'cpu' } | { type: 'exit' };

const kind = process.argv[2] as EchoKind;
const send = (m: unknown) => process.send?.(m);
let live = 0;

// The same certificate type (EC P-256) and protocol (TLS 1.2, iotwire's server default) for both TLS servers.
const pair = kind === 'tls' || kind === 'tcp-server-tls' ? generateSelfSigned({ keyType: 'ec' }) : undefined;

async function start(): Promise<number> {
  switch (kind) {
    case 'net': {
      const server = net.createServer((s) => {
        live++;
        s.on('data', (d) => s.write(d));
        s.on('error', () => {});
        s.on('close', () => live--);
      });
      await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, r));
      return (server.address() as net.AddressInfo).port;
    }
    case 'tls': {
      const server = tls.createServer({ cert: pair!.cert, key: pair!.key, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }, (s) => {
        live++;
        s.on('data', (d) => s.write(d));
        s.on('error', () => {});
        s.on('close', () => live--);
      });
      server.on('tlsClientError', () => {});
      await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, r));
      return (server.address() as net.AddressInfo).port;
    }
    case 'tcp-server':
    case 'tcp-server-tls': {
      const server = new TcpServer({
        localHost: '127.0.0.1',
        maxConnections: 100_000,
        ...(kind === 'tcp-server-tls' ? { sslStartMode: 'implicit' as const, sslCert: pair! } : {}),
      });
      server.on('dataIn', (id, data) => server.send(id, data));
      server.on('connected', (_id, code) => code === 0 && live++);
      server.on('disconnected', () => live--);
      await server.startListening();
      return server.localPort;
    }
    case 'tcp-server-raw': {
      const server = new TcpServer({ localHost: '127.0.0.1', maxConnections: 100_000, onData: (chunk, conn) => conn.write(chunk) });
      server.on('connected', () => live++);
      server.on('disconnected', () => live--);
      await server.startListening();
      return server.localPort;
    }
    default:
      throw new Error(`unknown server kind ${String(kind)}`);
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

async function stats() {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  return { type: 'stats', rss: m.rss, heapUsed: m.heapUsed, external: m.external, connections: live };
}

const port = await start();
const fdLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
process.on('message', (m: Msg) => {
  if (m.type === 'stats') void stats().then(send);
  else if (m.type === 'cpu') {
    const c = process.cpuUsage();
    send({ type: 'cpu', micros: c.user + c.system });
  } else if (m.type === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port, fdLimit, gc: gc !== undefined });
