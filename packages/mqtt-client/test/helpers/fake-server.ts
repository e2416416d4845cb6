import { createServer, type Server, type Socket } from 'node:net';
import { Decoder, encode, type Packet, type ProtocolVersion } from '@iotwire/mqtt-packet';

/** One client connection seen by the fake server. */
export class FakeConnection {
  readonly packets: Packet[] = [];
  readonly #waiters: { pred: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = [];
  closed: Promise<void>;
  version: ProtocolVersion = 4;
  readonly decoder: Decoder;

  constructor(readonly socket: Socket) {
    this.decoder = new Decoder((p) => this.#on(p), { side: 'server' });
    socket.on('data', (c) => {
      try {
        this.decoder.push(c);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }

  #on(p: Packet): void {
    if (p.type === 'connect') this.version = p.protocolVersion;
    this.packets.push(p);
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i]!;
      if (w.pred(p)) {
        this.#waiters.splice(i, 1);
        w.resolve(p);
        return;
      }
    }
  }

  /** The next packet (already received or future) of a type matching `pred`. */
  next<T extends Packet['type']>(
    type: T,
    pred: (p: Extract<Packet, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<Packet, { type: T }>> {
    const match = (p: Packet) => p.type === type && pred(p as Extract<Packet, { type: T }>);
    const seen = this.packets.findIndex(match);
    if (seen >= 0) {
      const p = this.packets[seen]!;
      this.packets.splice(seen, 1);
      return Promise.resolve(p as Extract<Packet, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no ${type} within ${timeoutMs} ms; got ${this.packets.map((x) => x.type).join(',')}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred: match,
        resolve: (p) => {
          clearTimeout(t);
          const i = this.packets.indexOf(p);
          if (i >= 0) this.packets.splice(i, 1);
          resolve(p as Extract<Packet, { type: T }>);
        },
      });
    });
  }

  send(p: Packet): void {
    this.socket.write(encode(p, this.version));
  }

  raw(bytes: Uint8Array | number[]): void {
    this.socket.write(Uint8Array.from(bytes as number[]));
  }

  /** Answers the CONNECT with CONNACK. */
  async accept(connack: Partial<Extract<Packet, { type: 'connack' }>> = {}): Promise<Extract<Packet, { type: 'connect' }>> {
    const c = await this.next('connect');
    this.send({ type: 'connack', sessionPresent: false, reasonCode: 0, ...connack });
    return c;
  }
}

/** A scriptable MQTT "server" on a raw socket: tests drive each connection by hand. */
export class FakeServer {
  readonly server: Server;
  readonly connections: FakeConnection[] = [];
  readonly #waiting: ((c: FakeConnection) => void)[] = [];
  port = 0;

  constructor() {
    this.server = createServer((s) => {
      const c = new FakeConnection(s);
      this.connections.push(c);
      const w = this.#waiting.shift();
      if (w) w(c);
    });
  }

  static async start(): Promise<FakeServer> {
    const f = new FakeServer();
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', () => r()));
    f.port = (f.server.address() as { port: number }).port;
    return f;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The next connection (one already accepted and not yet taken, or the next to arrive). */
  connection(): Promise<FakeConnection> {
    const c = this.connections[this.#taken];
    if (c) {
      this.#taken++;
      return Promise.resolve(c);
    }
    return new Promise((r) =>
      this.#waiting.push((conn) => {
        this.#taken++;
        r(conn);
      }),
    );
  }
  #taken = 0;

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Resolves with the first emission of `event`. */
export function once<T = unknown>(emitter: { once(e: string, l: (a: T) => void): unknown }, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (a: T) => {
      clearTimeout(t);
      resolve(a);
    });
  });
}

/** Polls `cond` until true (bounded). */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
