import { requireBinary } from './binaries.js';
import { freePort } from './ports.js';
import { type PeerProcess, startPeer } from './process.js';

export interface RedisPeer {
  process: PeerProcess;
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts Debian's `redis-server` on a free loopback port, without persistence. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisPeer> {
  const bin = requireBinary('redis-server');
  const port = options.port ?? (await freePort('tcp'));
  const proc = await startPeer({
    name: 'redis-server',
    command: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    ready: (p) => /Ready to accept connections/.test(p.output),
  });
  return { process: proc, host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, stop: () => proc.stop() };
}
