import { once } from 'node:events';
import type { PeerAddress } from '@iotwire/udp';
import { DtlsClient, type DtlsClientOptions, DtlsServer, type DtlsServerOptions } from '../../src/index.js';

export interface Pair {
  server: DtlsServer;
  client: DtlsClient;
  addr: PeerAddress;
  close(): Promise<void>;
}

/** A loopback server that echoes application data, and a client. */
export async function pair(serverOptions: DtlsServerOptions, clientOptions: DtlsClientOptions, host = '127.0.0.1'): Promise<Pair> {
  const server = new DtlsServer({ host, port: 0, ...serverOptions });
  server.on('message', (d, p) => {
    server.send(d, p).catch(() => {});
  });
  const addr = await server.bind();
  const client = new DtlsClient({ host, ...clientOptions });
  return {
    server,
    client,
    addr,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** Sends `text` and resolves with the next message the client receives. */
export async function echo(client: DtlsClient, to: PeerAddress, text: string): Promise<string> {
  const got = once(client, 'message') as Promise<[Buffer]>;
  await client.send(Buffer.from(text), to);
  return (await got)[0].toString();
}

/** Resolves with the arguments of the next `event`, failing after `ms`. */
export function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, ms = 10_000): Promise<T> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) }) as Promise<T>;
}
