import type { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach } from 'vitest';
import { type Connection, TcpServer, type TcpServerOptions } from '../src/index.js';

const servers: TcpServer[] = [];
const peers: Peer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  for (const s of servers.splice(0)) {
    await s.stopListening();
    for (const c of s.connections.values()) c.destroy();
  }
});

/** A listening server on 127.0.0.1 (port chosen by the OS), shut down after the test. */
export async function listen(options: TcpServerOptions = {}): Promise<TcpServer> {
  const s = new TcpServer({ localHost: '127.0.0.1', ...options });
  await s.startListening();
  servers.push(s);
  return s;
}

/** Resolves with the arguments of the next `event` that passes `filter` (bounded wait). */
export function next<A extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  filter: (...args: A) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (...args: unknown[]) => {
      if (!filter(...(args as A))) return;
      clearTimeout(timer);
      emitter.removeListener(event, on);
      resolve(args as A);
    };
    emitter.on(event, on);
  });
}

/** Connects a client and waits until the server reports it connected. */
export async function accept(server: TcpServer, host = '127.0.0.1'): Promise<{ peer: Peer; id: string; conn: Connection }> {
  const connected = next<[string, number, string, Connection]>(server, 'connected');
  const peer = await Peer.connect(server.localPort, host);
  const [id, , , conn] = await connected;
  return { peer, id, conn };
}

/** Records the server's events as compact strings, in order. */
export function record(server: TcpServer): string[] {
  const log: string[] = [];
  server.on('connected', (id, code) => log.push(`connected ${id} ${code}`));
  server.on('readyToSend', (id) => log.push(`readyToSend ${id}`));
  server.on('dataIn', (id, data, eol) => log.push(`dataIn ${id} ${JSON.stringify(data.toString('latin1'))} ${eol}`));
  server.on('disconnected', (id, code) => log.push(`disconnected ${id} ${code}`));
  return log;
}

/** Polls `cond` (event-driven tests use this only to await state that has no event). */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A test client: collects what it receives and how it closed. */
export class Peer {
  #chunks: Buffer[] = [];
  #length = 0;
  closeError: Error | undefined;
  readonly closed: Promise<void>;
  #waiters: Array<() => void> = [];

  constructor(readonly socket: net.Socket) {
    peers.push(this);
    socket.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#length += d.length;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', (e) => {
      this.closeError = e;
    });
    this.closed = new Promise((r) => socket.once('close', () => r()));
    void this.closed.then(() => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async connect(port: number, host = '127.0.0.1', options: Partial<net.TcpNetConnectOpts> = {}): Promise<Peer> {
    const s = net.connect({ port, host, ...options });
    const p = new Peer(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    return p;
  }

  static async connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<Peer> {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    const p = new Peer(s);
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', () => resolve());
      s.once('error', reject);
      s.once('close', () => reject(p.closeError ?? new Error('closed during the TLS handshake')));
    });
    return p;
  }

  /** Everything received so far. */
  get received(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  get receivedLength(): number {
    return this.#length;
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Waits until the received text satisfies `pred` (or the socket closes, then fails). */
  async waitFor(pred: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.text)) {
      if (this.socket.destroyed) throw new Error(`closed before the expected data; got ${JSON.stringify(this.text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.text;
  }
}
