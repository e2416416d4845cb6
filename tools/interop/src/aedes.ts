import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { tcpOpen } from './probes.js';
import { type PeerProcess, startPeer } from './process.js';

export interface AedesPeer {
  process: PeerProcess;
  host: string;
  port: number;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('../peers/aedes-server.mjs', import.meta.url));

/** Starts Aedes (npm) in its own Node process on a free loopback port. */
export async function startAedes(options: { port?: number } = {}): Promise<AedesPeer> {
  const port = options.port ?? (await freePort('tcp'));
  const proc = await startPeer({
    name: 'aedes',
    command: process.execPath,
    args: [script, String(port), '127.0.0.1'],
    ready: () => tcpOpen(port),
  });
  return { process: proc, host: '127.0.0.1', port, stop: () => proc.stop() };
}
