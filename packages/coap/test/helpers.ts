import { createSocket, type Socket } from 'node:dgram';
import { CoapClient, type CoapClientOptions, CoapServer, type CoapServerOptions } from '../src/index.js';

/** A server on an ephemeral loopback port plus a client, torn down by `close()`. */
export async function pair(serverOptions: CoapServerOptions = {}, clientOptions: CoapClientOptions = {}) {
  const server = new CoapServer({ host: '127.0.0.1', port: 0, ...serverOptions });
  const addr = await server.listen();
  const client = new CoapClient({ bindAddress: '127.0.0.1', timeoutMs: 10_000, ...clientOptions });
  const base = `coap://127.0.0.1:${addr.port}`;
  return {
    server,
    client,
    base,
    port: addr.port,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

export interface RawSocket {
  socket: Socket;
  send(hex: string | Buffer, port: number): void;
  /** The next datagram received. */
  next(timeoutMs?: number): Promise<Buffer>;
  /** The next datagram with the port it came from. */
  nextFrom(timeoutMs?: number): Promise<{ data: Buffer; port: number }>;
  close(): void;
}

/** A raw UDP socket for hand-made datagrams; `next()` waits for the next one received. */
export async function rawSocket(): Promise<RawSocket> {
  const socket = createSocket('udp4');
  const queue: { data: Buffer; port: number }[] = [];
  const waiters: ((b: { data: Buffer; port: number }) => void)[] = [];
  socket.on('message', (m, rinfo) => {
    const item = { data: m, port: rinfo.port };
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  });
  const nextFrom = (timeoutMs = 5000) => {
    const q = queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise<{ data: Buffer; port: number }>((resolve, reject) => {
      const w = (b: { data: Buffer; port: number }) => {
        clearTimeout(t);
        resolve(b);
      };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error('no datagram'));
      }, timeoutMs);
      waiters.push(w);
    });
  };
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return {
    socket,
    send(data, port) {
      socket.send(typeof data === 'string' ? Buffer.from(data, 'hex') : data, port, '127.0.0.1');
    },
    nextFrom,
    next: (timeoutMs = 5000) => nextFrom(timeoutMs).then((x) => x.data),
    close() {
      socket.close();
    },
  };
}
